"""The breach register: breaches by order and subject, and who breaches again and again."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.paging import Count
from plumbing.readmodel import Projection, Write, update
from schemas.application import OrderAllocatedV1, OrderGrantedV1, OrderReallocatedV1
from schemas.breach import BreachOutcomeRecordedV1, BreachRecordedV1
from schemas.personal import pseudonym

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.breaches (
    breach_id uuid PRIMARY KEY,
    order_reference text NOT NULL,
    district text NOT NULL,
    team text,  -- the team managing the order when the breach was recorded
    report_reference text NOT NULL,
    occurred_at timestamptz NOT NULL,
    condition_breached text NOT NULL,
    breach_number integer NOT NULL,
    outcome text,
    sentence text
);
CREATE INDEX IF NOT EXISTS breaches_by_order ON {schema}.breaches (order_reference);
CREATE INDEX IF NOT EXISTS breaches_by_time ON {schema}.breaches (occurred_at, breach_id);
-- who each order is about, from the grant: breaches are counted against people, each known
-- by the id of their key (their nominal is sealed with it, differently on each order)
CREATE TABLE IF NOT EXISTS {schema}.order_subjects (
    order_reference text PRIMARY KEY,
    subject text NOT NULL,
    subject_nominal_id text NOT NULL,
    order_type text NOT NULL
);
-- added later (a register made before gains the column, filled by a rebuild): the team that
-- manages each order now, from its allocation and reallocations; a breach shows to that team
ALTER TABLE {schema}.order_subjects ADD COLUMN IF NOT EXISTS team text;
"""


def recorded(e: BreachRecordedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.breaches (breach_id, order_reference, district, team,
               report_reference, occurred_at, condition_breached, breach_number)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (breach_id) DO NOTHING""",
        (e.aggregate_id, p.order_reference, p.district, p.team, p.report_reference,
         p.occurred_at, p.condition_breached, p.breach_number),
    )]  # fmt: skip


def outcome(e: BreachOutcomeRecordedV1) -> list[Write]:
    return [Write(
        "UPDATE {schema}.breaches SET outcome = $2, sentence = $3 WHERE breach_id = $1",
        (e.aggregate_id, e.payload.outcome.value, e.payload.sentence),
    )]  # fmt: skip


def order_granted(e: OrderGrantedV1) -> list[Write]:
    p = e.payload
    return [Write(
        "INSERT INTO {schema}.order_subjects VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        (p.order_reference, pseudonym(p.subject_nominal_id), p.subject_nominal_id,
         p.order_type.value),
    )]  # fmt: skip


def order_team(e: OrderAllocatedV1 | OrderReallocatedV1) -> list[Write]:
    return [update("{schema}.order_subjects", ("order_reference", e.payload.order_reference),
                   team=e.payload.team)]  # fmt: skip


PROJECTION = Projection(
    name="breaches",
    description="Breaches by order and subject, with their outcomes; repeat breachers.",
    ddl=DDL,
    handlers={
        BreachRecordedV1: recorded,
        BreachOutcomeRecordedV1: outcome,
        OrderGrantedV1: order_granted,
        OrderAllocatedV1: order_team,
        OrderReallocatedV1: order_team,
    },
    tables=("breaches", "order_subjects"),
)


BreachKey = tuple[datetime, UUID]


def breach_key(row: dict[str, Any]) -> BreachKey:
    return row["occurred_at"], row["breach_id"]


async def get_breaches(
    pool: asyncpg.Pool,
    order_reference: str | None,
    team: str | None,
    after: BreachKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first, from just after (older than) the `after` breach; each under the team
    that manages its order now (until the order's allocation is known, the team that managed
    it when the breach was recorded)."""
    occurred_at, breach_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT b.breach_id, b.order_reference, b.district, coalesce(s.team, b.team) AS team,
                  b.report_reference, b.occurred_at, b.condition_breached, b.breach_number,
                  b.outcome, b.sentence, s.subject_nominal_id, s.order_type
           FROM rm_breaches.breaches b
           LEFT JOIN rm_breaches.order_subjects s USING (order_reference)
           WHERE ($1::text IS NULL OR b.order_reference = $1)
             AND ($2::text IS NULL OR coalesce(s.team, b.team) = $2)
             AND ($3::timestamptz IS NULL OR (b.occurred_at, b.breach_id) < ($3, $4::uuid))
           ORDER BY b.occurred_at DESC, b.breach_id DESC LIMIT $5""",
        order_reference, team, occurred_at, breach_id, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]


BreacherKey = tuple[Count, str]


def breacher_key(row: dict[str, Any]) -> BreacherKey:
    return row["breaches"], row["subject"]


async def get_repeat_breachers(
    pool: asyncpg.Pool, at_least: int, after: BreacherKey | None, limit: int
) -> list[dict[str, Any]]:
    """Subjects with `at_least` breaches across all their orders, most first."""
    breaches, subject = after or (None, None)
    rows = await pool.fetch(
        """SELECT s.subject, min(s.subject_nominal_id) AS subject_nominal_id,
                  count(*) AS breaches, count(DISTINCT b.order_reference) AS orders,
                  max(b.occurred_at) AS latest
           FROM rm_breaches.breaches b JOIN rm_breaches.order_subjects s USING (order_reference)
           GROUP BY s.subject HAVING count(*) >= $1
             AND ($2::bigint IS NULL OR (-count(*), s.subject) > (-$2, $3::text))
           ORDER BY breaches DESC, s.subject LIMIT $4""",
        at_least, breaches, subject, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]
