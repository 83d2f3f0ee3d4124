"""Outreach: the sessions ("roadshows") held for districts' staff, as recorded."""

from typing import Any

import asyncpg

from plumbing.readmodel import Projection, Write
from schemas.outreach import OutreachSessionRecordedV1

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.sessions (
    session_id uuid PRIMARY KEY,
    district text NOT NULL,
    held_on date NOT NULL,
    audience text NOT NULL,
    notes text NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_day ON {schema}.sessions (held_on, district);
"""


def recorded(e: OutreachSessionRecordedV1) -> list[Write]:
    p = e.payload
    return [Write(
        "INSERT INTO {schema}.sessions VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        (e.aggregate_id, p.district, p.held_on, p.audience, p.notes, e.actor, e.occurred_at),
    )]  # fmt: skip


PROJECTION = Projection(
    name="outreach",
    description="Outreach sessions held for districts' staff: district, day, audience.",
    ddl=DDL,
    handlers={OutreachSessionRecordedV1: recorded},
    tables=("sessions",),
)


async def get_sessions(pool: asyncpg.Pool, district: str | None) -> list[dict[str, Any]]:
    """Newest first, of one district or all."""
    rows = await pool.fetch(
        """SELECT session_id, district, held_on, audience, notes, recorded_by, recorded_at
           FROM rm_outreach.sessions WHERE ($1::text IS NULL OR district = $1)
           ORDER BY held_on DESC, district, audience""",
        district,
    )
    return [dict(row) for row in rows]

