"""The MoPI review queue: each person's record with its review group and date, and whether it
is due, for caseworkers and managers to review. Written only by its projection of the subject
records; each person's nominal sealed with their key, as the events hold it."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.eventstore import EventSourcedService
from plumbing.personal import PersonalData
from plumbing.projection import LocalProjection, update_row
from services.referral.domain import SubjectRecord

DDL = """
CREATE TABLE IF NOT EXISTS referral.reviews (
    subject_key uuid PRIMARY KEY,
    subject_nominal_id text NOT NULL,
    review_group integer,
    due_on date,
    state text NOT NULL,
    decided_by text,
    decided_at timestamptz
);
CREATE INDEX IF NOT EXISTS reviews_by_state ON referral.reviews (state, due_on, subject_key);
"""


def started(cursor: Any, event: SubjectRecord.Started, personal: PersonalData) -> None:
    """With its first review, or unscheduled (a record started before reviews were dated)."""
    nominal = personal.sealed_for(event.subject_nominal_id, event.subject_nominal_id)
    group, due_on = event.review_group, event.review_due_on
    state = "unscheduled" if group is None else "scheduled"
    cursor.execute(
        """INSERT INTO referral.reviews (subject_key, subject_nominal_id, review_group, due_on,
                                         state)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        (event.originator_id, nominal, group, due_on, state),
    )


def scheduled(cursor: Any, event: SubjectRecord.ReviewScheduled) -> None:
    key = ("subject_key", event.originator_id)
    columns = {"review_group": event.group, "due_on": event.due_on, "state": "scheduled"}
    update_row(cursor, "referral.reviews", key, **columns)


def decided(cursor: Any, event: Any, state: str, due_on: date | None) -> None:
    """Retained (to a next review date) or disposed of, by whom and when."""
    cursor.execute(
        """UPDATE referral.reviews SET due_on = coalesce(%s, due_on), state = %s,
                  decided_by = %s, decided_at = %s WHERE subject_key = %s""",
        (due_on, state, event.trace.actor, event.at, event.originator_id),
    )


def fell_due(cursor: Any, event: SubjectRecord.ReviewFellDue) -> None:
    update_row(cursor, "referral.reviews", ("subject_key", event.originator_id), state="due")


def reviews_projection(service: EventSourcedService) -> LocalProjection:
    return LocalProjection(
        "reviews",
        DDL,
        {
            SubjectRecord.Started: lambda c, e: started(c, e, service.personal),
            SubjectRecord.ReviewScheduled: scheduled,
            SubjectRecord.ReviewFellDue: fell_due,
            SubjectRecord.Retained: lambda c, e: decided(c, e, "scheduled", e.next_review_on),
            SubjectRecord.Disposed: lambda c, e: decided(c, e, "disposed", None),
        },
    )


ReviewKey = tuple[date, UUID]


def review_key(row: dict[str, Any]) -> ReviewKey:
    return row["due_on"], row["subject_key"]


async def falling_due(pool: asyncpg.Pool, today: date) -> list[UUID]:
    """The records whose review date has come and that are not yet queued."""
    rows = await pool.fetch(
        """SELECT subject_key FROM referral.reviews
           WHERE state = 'scheduled' AND due_on <= $1 ORDER BY due_on, subject_key""",
        today,
    )
    return [row["subject_key"] for row in rows]


async def unscheduled(pool: asyncpg.Pool) -> list[UUID]:
    """Records kept before reviews were dated, and not yet disposed of."""
    rows = await pool.fetch("SELECT subject_key FROM referral.reviews WHERE state = 'unscheduled'")
    return [row["subject_key"] for row in rows]


async def list_reviews(
    pool: asyncpg.Pool, state: str, after: ReviewKey | None, limit: int
) -> list[dict[str, Any]]:
    """Longest due first, from just after the `after` record."""
    due_on, subject_key = after or (None, None)
    rows = await pool.fetch(
        """SELECT * FROM referral.reviews WHERE state = $1
             AND ($2::date IS NULL OR (due_on, subject_key) > ($2, $3::uuid))
           ORDER BY due_on, subject_key LIMIT $4""",
        state, due_on, subject_key, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]
