"""The candidates read model: what proactive scanning flagged, for caseworkers to work."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.eventstore import EventSourcedService
from plumbing.paging import Int4
from plumbing.personal import PersonalData
from plumbing.projection import LocalProjection, update_row
from services.referral.domain import Candidate

DDL = """
CREATE TABLE IF NOT EXISTS referral.candidates (
    candidate_id uuid PRIMARY KEY,
    district text NOT NULL,
    crime_reference text NOT NULL,
    suspect_nominal_id text NOT NULL,
    score integer NOT NULL,
    rules_fired text[] NOT NULL,
    rules_version text NOT NULL,
    status text NOT NULL,
    identified_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS candidates_by_status ON referral.candidates (status, score DESC);
CREATE INDEX IF NOT EXISTS candidates_by_score
    ON referral.candidates (score DESC, identified_at, candidate_id);
CREATE INDEX IF NOT EXISTS candidates_by_crime ON referral.candidates (crime_reference);
"""


def identified(cursor: Any, event: Candidate.Identified, personal: PersonalData) -> None:
    cursor.execute(
        """INSERT INTO referral.candidates VALUES
           (%s, %s, %s, %s, %s, %s, %s, 'identified', %s) ON CONFLICT DO NOTHING""",
        (
            event.originator_id,
            event.district,
            event.crime_reference,
            personal.sealed_for(event.suspect_nominal_id, event.suspect_nominal_id),
            event.score,
            event.rules_fired,
            event.rules_version,
            event.timestamp,
        ),
    )


def _status(cursor: Any, event: Any, status: str) -> None:
    update_row(cursor, "referral.candidates", ("candidate_id", event.originator_id), status=status)


def candidates_projection(service: EventSourcedService) -> LocalProjection:
    """The table holds each suspect's nominal sealed with their key, as the events do."""
    return LocalProjection(
        "candidates",
        DDL,
        {
            Candidate.Identified: lambda c, e: identified(c, e, service.personal),
            Candidate.Promoted: lambda c, e: _status(c, e, "promoted"),
            Candidate.Dismissed: lambda c, e: _status(c, e, "dismissed"),
        },
    )


CandidateKey = tuple[Int4, datetime, UUID]


def candidate_key(row: dict[str, Any]) -> CandidateKey:
    return row["score"], row["identified_at"], row["candidate_id"]


async def list_candidates(
    pool: asyncpg.Pool,
    status: str | None,
    crime_reference: str | None,
    identified_since: datetime | None,
    after: CandidateKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Highest score first, then first identified; from just after the `after` candidate.
    Those flagged since a time are found in the index by score (`identified_at >=` a value,
    not `$7 IS NULL OR ...`: in the plan PostgreSQL keeps for a statement run often, that read
    every candidate by score, the older ones too: 23-40 ms a page with 82,000 of them, ~1 ms
    now)."""
    score, identified_at, candidate_id = after or (None, None, None)
    rows = await pool.fetch(
        """SELECT * FROM referral.candidates
           WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR crime_reference = $2)
             AND identified_at >= coalesce($7::timestamptz, '-infinity')
             AND ($3::integer IS NULL OR score < $3
                  OR score = $3 AND (identified_at, candidate_id) > ($4::timestamptz, $5::uuid))
           ORDER BY score DESC, identified_at, candidate_id LIMIT $6""",
        status, crime_reference, score, identified_at, candidate_id, limit, identified_since,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def count_candidates(
    pool: asyncpg.Pool, crime_references: list[str], identified_since: datetime | None
) -> int:
    """How many candidates these crimes raised (flagged at or after `identified_since`)."""
    count: int = await pool.fetchval(
        """SELECT count(*) FROM referral.candidates
           WHERE crime_reference = ANY($1::text[])
             AND identified_at >= coalesce($2::timestamptz, '-infinity')""",
        crime_references, identified_since,
    )  # fmt: skip
    return count
