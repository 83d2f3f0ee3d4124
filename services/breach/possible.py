"""The possible breaches read model: what the service noticed may be a breach, for each
managing team to confirm or dismiss. No personal data: the order's reference and the
condition."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.projection import LocalProjection, update_row
from services.breach.domain import PossibleBreach, PossibleBreachStatus

DDL = """
CREATE TABLE IF NOT EXISTS breach.possible_breaches (
    possible_breach_id uuid PRIMARY KEY,
    order_reference text NOT NULL,
    team text,
    condition text NOT NULL,
    arose_on date NOT NULL,
    status text NOT NULL,
    breach_id uuid,
    decided_by text
);
CREATE INDEX IF NOT EXISTS possible_breaches_by_team
    ON breach.possible_breaches (team, status, arose_on, possible_breach_id);
"""


def raised(cursor: Any, event: PossibleBreach.Raised) -> None:
    cursor.execute(
        """INSERT INTO breach.possible_breaches VALUES (%s, %s, %s, %s, %s, %s, NULL, NULL)
           ON CONFLICT DO NOTHING""",
        (event.originator_id, event.order_reference, event.team, event.condition,
         event.arose_on, PossibleBreachStatus.OPEN.value),
    )  # fmt: skip


def _decided(cursor: Any, event: Any, status: PossibleBreachStatus, **columns: object) -> None:
    key = ("possible_breach_id", event.originator_id)
    update_row(cursor, "breach.possible_breaches", key, status=status.value,
               decided_by=event.trace.actor, **columns)  # fmt: skip


POSSIBLE_BREACHES = LocalProjection(
    "possible_breaches",
    DDL,
    {
        PossibleBreach.Raised: raised,
        PossibleBreach.Confirmed: lambda c, e: _decided(
            c, e, PossibleBreachStatus.CONFIRMED, breach_id=e.breach_id
        ),
        PossibleBreach.Dismissed: lambda c, e: _decided(c, e, PossibleBreachStatus.DISMISSED),
    },
)

PossibleKey = tuple[date, UUID]


def possible_key(row: dict[str, Any]) -> PossibleKey:
    return row["arose_on"], row["possible_breach_id"]


async def possible_breaches(
    pool: asyncpg.Pool,
    team: str | None,
    status: PossibleBreachStatus | None,
    order_reference: str | None,
    after: PossibleKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Possible breaches, oldest first, of one team (or all), from just after `after`."""
    arose_on, possible_breach_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT * FROM breach.possible_breaches
           WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR status = $2)
             AND ($3::text IS NULL OR order_reference = $3)
             AND ($4::date IS NULL OR (arose_on, possible_breach_id) > ($4, $5::uuid))
           ORDER BY arose_on, possible_breach_id LIMIT $6""",
        team, status.value if status else None, order_reference, arose_on, possible_breach_id,
        limit,
    )  # fmt: skip
    return [dict(row) for row in rows]
