"""The possible breaches read model: what the service noticed may be a breach, for the team
managing its order now to confirm or dismiss (the team an order moves to takes its possible
breaches with it). No personal data: the order's reference and the condition."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.projection import LocalProjection, update_row
from services.breach.domain import KnownOrder, PossibleBreach, PossibleBreachStatus

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

ORDER_TEAMS_DDL = """
CREATE TABLE IF NOT EXISTS breach.order_teams (
    known_order_id uuid PRIMARY KEY,
    order_reference text NOT NULL UNIQUE,
    team text
);
"""

# the team managing each order now, for the possible breaches of its orders
ORDER_TEAMS = LocalProjection(
    "order_teams",
    ORDER_TEAMS_DDL,
    {
        KnownOrder.Registered: lambda cursor, event: cursor.execute(
            "INSERT INTO breach.order_teams VALUES (%s, %s, NULL) ON CONFLICT DO NOTHING",
            (event.originator_id, event.reference),
        ),
        KnownOrder.Allocated: lambda cursor, event: update_row(
            cursor, "breach.order_teams", ("known_order_id", event.originator_id), team=event.team
        ),
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
    """Possible breaches, oldest first, of the orders one team manages now (or all), from
    just after `after`."""
    arose_on, possible_breach_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT p.possible_breach_id, p.order_reference, coalesce(o.team, p.team) AS team,
                  p.condition, p.arose_on, p.status, p.breach_id, p.decided_by
           FROM breach.possible_breaches p LEFT JOIN breach.order_teams o USING (order_reference)
           WHERE ($1::text IS NULL OR coalesce(o.team, p.team) = $1)
             AND ($2::text IS NULL OR p.status = $2)
             AND ($3::text IS NULL OR p.order_reference = $3)
             AND ($4::date IS NULL OR (p.arose_on, p.possible_breach_id) > ($4, $5::uuid))
           ORDER BY p.arose_on, p.possible_breach_id LIMIT $6""",
        team, status.value if status else None, order_reference, arose_on, possible_breach_id,
        limit,
    )  # fmt: skip
    return [dict(row) for row in rows]
