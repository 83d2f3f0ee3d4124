"""The referral queue read model: every referral's state, age, caseworker and service level."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.postgres import PostgresProcessRecorder

from plumbing.projection import LocalProjection, update_row
from services.referral.domain import Referral, Status

DDL = """
CREATE TABLE IF NOT EXISTS referral.queue (
    referral_id uuid PRIMARY KEY,
    district text NOT NULL,
    district_reference text NOT NULL,
    source text NOT NULL,
    status text NOT NULL,
    received_at timestamptz NOT NULL,
    waiting_since timestamptz NOT NULL,
    caseworker text,
    overdue boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS queue_by_status ON referral.queue (status, waiting_since);
CREATE INDEX IF NOT EXISTS queue_by_wait ON referral.queue (waiting_since, referral_id);
"""


def received(cursor: Any, event: Referral.Received) -> None:
    cursor.execute(
        """INSERT INTO referral.queue (referral_id, district, district_reference, source,
               status, received_at, waiting_since)
           VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        (event.originator_id, event.district, event.district_reference, event.source,
         Status.RECEIVED.value, event.received_at, event.received_at),
    )  # fmt: skip


def _set(cursor: Any, event: Any, **columns: object) -> None:
    update_row(cursor, "referral.queue", ("referral_id", event.originator_id), **columns)


QUEUE = LocalProjection(
    "queue",
    DDL,
    {
        Referral.Received: received,
        Referral.ReviewStarted: lambda c, e: _set(c, e, status=Status.UNDER_REVIEW.value),
        Referral.ReturnedForInformation: lambda c, e: _set(
            c, e, status=Status.RETURNED.value, overdue=False
        ),
        Referral.Resubmitted: lambda c, e: _set(
            c, e, status=Status.RECEIVED.value, waiting_since=e.at
        ),
        Referral.Accepted: lambda c, e: _set(c, e, status=Status.ACCEPTED.value, overdue=False),
        Referral.Declined: lambda c, e: _set(c, e, status=Status.DECLINED.value, overdue=False),
        Referral.Assigned: lambda c, e: _set(c, e, caseworker=e.caseworker),
        Referral.Reassigned: lambda c, e: _set(c, e, caseworker=e.caseworker),
        Referral.TriageOverdue: lambda c, e: _set(c, e, overdue=True),
    },
)


def open_caseloads(recorder: PostgresProcessRecorder) -> dict[str, int]:
    """Accepted referrals per caseworker, as the queue knows them."""
    with recorder.datastore.cursor() as cursor:
        cursor.execute(
            "SELECT caseworker, count(*) AS cases FROM referral.queue "
            "WHERE status = 'accepted' AND caseworker IS NOT NULL GROUP BY caseworker"
        )
        return {row["caseworker"]: row["cases"] for row in cursor.fetchall()}


QueueKey = tuple[datetime, UUID]


def queue_key(row: dict[str, Any]) -> QueueKey:
    return row["waiting_since"], row["referral_id"]


async def waiting(
    pool: asyncpg.Pool,
    status: str | None,
    district: str | None,
    referral_ids: list[UUID] | None,
    after: QueueKey | None,
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The queue, oldest first, with how long each has waited by `now` (the service's
    clock): what a caseworker should look at next; from just after the `after` referral."""
    waiting_since, referral_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT *,
                  (extract(epoch FROM $7::timestamptz - waiting_since) / 3600)::float8
                  AS hours_waiting
           FROM referral.queue
           WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR district = $2)
             AND ($3::uuid[] IS NULL OR referral_id = ANY($3))
             AND ($4::timestamptz IS NULL OR (waiting_since, referral_id) > ($4, $5::uuid))
           ORDER BY waiting_since, referral_id LIMIT $6""",
        status, district, referral_ids, waiting_since, referral_id, limit, now,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def possibly_overdue(pool: asyncpg.Pool, service_level_days: int, now: datetime) -> list[Any]:
    """Referrals waiting for triage at least that many calendar days and not yet flagged
    (working days are fewer; the aggregate decides)."""
    rows = await pool.fetch(
        """SELECT referral_id FROM referral.queue
           WHERE status IN ('received', 'under review') AND NOT overdue
             AND waiting_since < $2::timestamptz - make_interval(days => $1)""",
        service_level_days,
        now,
    )
    return [row["referral_id"] for row in rows]
