"""The alert inbox across teams: what each MOSOVO team was sent, and who acknowledged it."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.readmodel import Projection, Write, update
from schemas.notification import (
    AlertAcknowledgedV1,
    AlertDeliveredV1,
    AlertEscalatedV1,
    AlertFailedV1,
    AlertRequestedV1,
)

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.alerts (
    alert_id uuid PRIMARY KEY,
    team text NOT NULL,
    kind text NOT NULL,
    order_reference text NOT NULL,
    requested_at timestamptz NOT NULL,
    status text NOT NULL,
    channel text,
    attempts integer,
    delivered_at timestamptz,
    failure text,
    escalated_at timestamptz,
    escalation_reason text,
    escalation text,
    acknowledged_by text,
    acknowledged_at timestamptz
);
CREATE INDEX IF NOT EXISTS alerts_by_team ON {schema}.alerts (team, requested_at);
CREATE INDEX IF NOT EXISTS alerts_by_time ON {schema}.alerts (requested_at, alert_id);
CREATE INDEX IF NOT EXISTS alerts_by_order ON {schema}.alerts (order_reference);
"""


def _alert(key: Any, **columns: Any) -> list[Write]:
    return [update("{schema}.alerts", ("alert_id", key), **columns)]


def requested(e: AlertRequestedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.alerts (alert_id, team, kind, order_reference, requested_at,
               status) VALUES ($1, $2, $3, $4, $5, 'requested') ON CONFLICT DO NOTHING""",
        (e.aggregate_id, p.team, p.kind, p.order_reference, e.occurred_at),
    )]  # fmt: skip


def delivered(e: AlertDeliveredV1) -> list[Write]:
    if e.payload.escalation:
        return _alert(e.aggregate_id, escalation=f"sent by {e.payload.channel}")
    return _alert(
        e.aggregate_id,
        status="delivered",
        channel=e.payload.channel,
        attempts=e.payload.attempts,
        delivered_at=e.occurred_at,
    )


def failed(e: AlertFailedV1) -> list[Write]:
    if e.payload.escalation:
        return _alert(e.aggregate_id, escalation=f"failed: {e.payload.reason}")
    return _alert(
        e.aggregate_id,
        status="failed",
        channel=e.payload.channel,
        attempts=e.payload.attempts,
        failure=e.payload.reason,
    )


def escalated(e: AlertEscalatedV1) -> list[Write]:
    return _alert(e.aggregate_id, escalated_at=e.occurred_at, escalation_reason=e.payload.reason)


def acknowledged(e: AlertAcknowledgedV1) -> list[Write]:
    return _alert(e.aggregate_id, acknowledged_by=e.actor, acknowledged_at=e.occurred_at)


PROJECTION = Projection(
    name="alerts",
    description="Every team's alerts: delivery, escalation and acknowledgement.",
    ddl=DDL,
    handlers={
        AlertRequestedV1: requested,
        AlertDeliveredV1: delivered,
        AlertFailedV1: failed,
        AlertEscalatedV1: escalated,
        AlertAcknowledgedV1: acknowledged,
    },
    tables=("alerts",),
)


AlertKey = tuple[datetime, UUID]


def alert_key(row: dict[str, Any]) -> AlertKey:
    return row["requested_at"], row["alert_id"]


async def get_alerts(
    pool: asyncpg.Pool,
    team: str | None,
    after: AlertKey | None,
    limit: int,
    order_reference: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first, from just after (older than) the `after` alert."""
    requested_at, alert_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT * FROM rm_alerts.alerts WHERE ($1::text IS NULL OR team = $1)
             AND ($2::timestamptz IS NULL OR (requested_at, alert_id) < ($2, $3::uuid))
             AND ($5::text IS NULL OR order_reference = $5)
           ORDER BY requested_at DESC, alert_id DESC LIMIT $4""",
        team, requested_at, alert_id, limit, order_reference,
    )  # fmt: skip
    return [dict(row) for row in rows]
