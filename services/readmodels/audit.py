"""The audit trail per case: every published event about a referral, the application it
became, its orders, their breaches and alerts, in the order they happened."""

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.paging import Count
from plumbing.readmodel import Projection, Write, own_row
from schemas.application import ApplicationOpenedV1, ApplicationStageChangedV1, OrderGrantedV1
from schemas.envelope import Envelope
from schemas.topics import TOPICS

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.events (
    event_id uuid PRIMARY KEY,
    producer text NOT NULL,
    sequence bigint NOT NULL,
    event_type text NOT NULL,
    aggregate_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor text NOT NULL,
    correlation_id uuid NOT NULL,
    causation_id uuid,
    about text NOT NULL,
    payload jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS events_about ON {schema}.events (about);
-- what each key belongs to: an application to its referral, an order to its application
CREATE TABLE IF NOT EXISTS {schema}.links (
    key text PRIMARY KEY,
    belongs_to text NOT NULL
);
"""


def about(envelope: Envelope) -> str:
    """The most specific case key an event names: the order reference for order, breach and
    alert events, else its own aggregate."""
    # the payload's fields: asking a pydantic model for one it lacks raises, which is slow
    reference = vars(envelope.payload).get("order_reference")
    return f"order:{reference}" if reference else f"aggregate:{envelope.aggregate_id}"


LINK = "INSERT INTO {schema}.links VALUES ($1, $2) ON CONFLICT DO NOTHING"


def record(e: Envelope) -> list[Write]:
    """The event, filed under its case."""
    return [own_row(
        "events", e.event_id, e.producer, e.sequence, e.event_type, e.aggregate_id,
        e.occurred_at, e.actor, e.correlation_id, e.causation_id, about(e),
        e.payload.model_dump_json(),
    )]  # fmt: skip


def record_application(e: ApplicationOpenedV1 | ApplicationStageChangedV1) -> list[Write]:
    """The event, and that its application belongs to its referral."""
    belongs = (f"aggregate:{e.aggregate_id}", f"aggregate:{e.payload.referral_id}")
    return [*record(e), Write(LINK, belongs)]


def record_order(e: OrderGrantedV1) -> list[Write]:
    """The event, and that its order belongs to its application (if it was granted on one:
    an SHPO made on conviction is a case of its own)."""
    order = f"aggregate:{e.aggregate_id}"
    application = e.payload.application_id
    return [
        *record(e),
        Write(LINK, (f"order:{e.payload.order_reference}", order)),
        *([Write(LINK, (order, f"aggregate:{application}"))] if application else []),
    ]


PROJECTION = Projection(
    name="audit",
    description="Every published event, filed under the case it belongs to.",
    ddl=DDL,
    handlers={
        **{
            event: record
            for topic in TOPICS
            if not topic.name.startswith("district.")  # the services' events, not their inputs
            for event in topic.events
        },
        ApplicationOpenedV1: record_application,
        ApplicationStageChangedV1: record_application,
        OrderGrantedV1: record_order,
    },
    tables=("events", "links"),
)


EventKey = tuple[datetime, str, Count]


def event_key(row: dict[str, Any]) -> EventKey:
    return row["occurred_at"], row["producer"], row["sequence"]


async def get_case_events(
    pool: asyncpg.Pool, case: UUID | str, after: EventKey | None, limit: int
) -> list[dict[str, Any]]:
    """The events of the whole case that `case` (a referral, application or order id, or an
    order reference) belongs to, oldest first, from just after the `after` event."""
    key = str(case) if str(case).startswith("ORD-") else None
    occurred_at, producer, sequence = after or (None, None, None)
    rows = await pool.fetch(
        """WITH RECURSIVE up(key) AS (
               SELECT k FROM unnest(ARRAY[$1, 'aggregate:' || $2]) AS k WHERE k IS NOT NULL
               UNION SELECT l.belongs_to FROM rm_audit.links l JOIN up ON l.key = up.key
           ),
           root AS (SELECT key FROM up WHERE key NOT IN (SELECT key FROM rm_audit.links)),
           down(key) AS (
               SELECT key FROM root
               UNION SELECT l.key FROM rm_audit.links l JOIN down ON l.belongs_to = down.key
           )
           SELECT * FROM rm_audit.events WHERE about IN (SELECT key FROM down)
             AND ($3::timestamptz IS NULL
                  OR (occurred_at, producer, sequence) > ($3, $4::text, $5::bigint))
           ORDER BY occurred_at, producer, sequence LIMIT $6""",
        f"order:{key}" if key else None, None if key else str(case),
        occurred_at, producer, sequence, limit,
    )  # fmt: skip
    return [dict(row, payload=json.loads(row["payload"])) for row in rows]
