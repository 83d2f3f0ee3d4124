"""The alert inbox, the one read model of alerts: every team's alerts, what was sent, when,
how, whether it was escalated and who acknowledged it.

It is the service's own (`plumbing.projection`): written in the transaction that stores the
alert's events, so an acknowledgement shows the moment it returns, and the escalation timer
and the metrics read it too. The web app's alert pages and `GET /api/alerts` read it here.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import psycopg
from prometheus_client import Gauge

from plumbing.projection import LocalProjection, update_row
from services.notification.domain import Alert

DDL = """
CREATE TABLE IF NOT EXISTS notification.alert_inbox (
    alert_id uuid PRIMARY KEY,
    team text NOT NULL,
    kind text NOT NULL,
    order_reference text NOT NULL,
    link text NOT NULL,
    status text NOT NULL,
    requested_at timestamptz NOT NULL,
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
CREATE INDEX IF NOT EXISTS alert_inbox_by_team ON notification.alert_inbox (team, requested_at);
CREATE INDEX IF NOT EXISTS alert_inbox_by_time ON notification.alert_inbox (requested_at, alert_id);
CREATE INDEX IF NOT EXISTS alert_inbox_by_order ON notification.alert_inbox (order_reference);
-- what the dispatcher and the escalation timer look for, so neither reads every alert ever
CREATE INDEX IF NOT EXISTS alert_inbox_unsettled
    ON notification.alert_inbox (requested_at, alert_id)
    WHERE status = 'requested' OR escalation = 'pending';
CREATE INDEX IF NOT EXISTS alert_inbox_awaiting_acknowledgement
    ON notification.alert_inbox (delivered_at)
    WHERE status = 'delivered' AND acknowledged_at IS NULL AND escalated_at IS NULL;
"""


def requested(cursor: Any, event: Alert.Requested) -> None:
    cursor.execute(
        """INSERT INTO notification.alert_inbox
           (alert_id, team, kind, order_reference, link, status, requested_at)
           VALUES (%s, %s, %s, %s, %s, 'requested', %s) ON CONFLICT DO NOTHING""",
        (event.originator_id, event.team, event.kind, event.order_reference, event.link,
         event.timestamp),
    )  # fmt: skip


def _set(cursor: Any, event: Any, **columns: object) -> None:
    update_row(cursor, "notification.alert_inbox", ("alert_id", event.originator_id), **columns)


def _sent(cursor: Any, event: Any, status: str, **columns: object) -> None:
    _set(cursor, event, status=status, channel=event.channel, attempts=event.attempts, **columns)


INBOX = LocalProjection(
    "alert-inbox",
    DDL,
    {
        Alert.Requested: requested,
        Alert.Delivered: lambda c, e: _sent(c, e, "delivered", delivered_at=e.at),
        Alert.Failed: lambda c, e: _sent(c, e, "failed", failure=e.reason),
        Alert.Escalated: lambda c, e: _set(
            c, e, escalated_at=e.at, escalation_reason=e.reason, escalation="pending"
        ),
        Alert.EscalationSent: lambda c, e: _set(c, e, escalation=f"sent by {e.channel}"),
        Alert.EscalationFailed: lambda c, e: _set(c, e, escalation=f"failed: {e.reason}"),
        Alert.Acknowledged: lambda c, e: _set(
            c, e, acknowledged_by=e.trace.actor, acknowledged_at=e.at
        ),
    },
)


InboxKey = tuple[datetime, UUID]


def inbox_key(row: dict[str, Any]) -> InboxKey:
    return row["requested_at"], row["alert_id"]


async def get_alerts(
    pool: asyncpg.Pool,
    team: str | None,
    after: InboxKey | None,
    limit: int,
    order_reference: str | None = None,
) -> list[dict[str, Any]]:
    """One team's alerts (every team's: None), or one order's, newest first, from just after
    (older than) the `after` alert."""
    requested_at, alert_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT * FROM notification.alert_inbox WHERE ($1::text IS NULL OR team = $1)
             AND ($2::timestamptz IS NULL OR (requested_at, alert_id) < ($2, $3::uuid))
             AND ($5::text IS NULL OR order_reference = $5)
           ORDER BY requested_at DESC, alert_id DESC LIMIT $4""",
        team, requested_at, alert_id, limit, order_reference,
    )  # fmt: skip
    return [dict(row) for row in rows]


ALERTS = Gauge("civil_orders_alerts", "Alerts by team and status.", ["team", "status"])
UNACKNOWLEDGED = Gauge(
    "civil_orders_alerts_unacknowledged",
    "Alerts that reached a team (or its fallback) and nobody has acknowledged.",
    ["team"],
)


async def alert_metrics(pool: asyncpg.Pool) -> None:
    for row in await pool.fetch(
        "SELECT team, status, count(*) AS alerts FROM notification.alert_inbox "
        "GROUP BY team, status"
    ):
        ALERTS.labels(row["team"], row["status"]).set(row["alerts"])
    for row in await pool.fetch(
        """SELECT team, count(*) AS unacknowledged FROM notification.alert_inbox
           WHERE acknowledged_at IS NULL AND (status = 'delivered' OR escalation LIKE 'sent%')
           GROUP BY team"""
    ):
        UNACKNOWLEDGED.labels(row["team"]).set(row["unacknowledged"])


def unsettled(connection: psycopg.Connection[Any]) -> list[tuple[UUID, str, bool]]:
    """Alerts whose sending is not settled, oldest first: (alert, team, whether it is the
    escalation that is to send). The aggregate has the last word: this view may lag."""
    rows = connection.execute(
        """SELECT alert_id, team, status <> 'requested' FROM notification.alert_inbox
           WHERE status = 'requested' OR escalation = 'pending'
           ORDER BY requested_at, alert_id"""
    ).fetchall()
    return [(alert_id, team, escalation) for alert_id, team, escalation in rows]


async def due_for_escalation(
    pool: asyncpg.Pool, timeout_seconds: float, now: datetime
) -> list[Any]:
    """Delivered alerts nobody acknowledged in time, by the service's clock `now`, and not
    yet escalated (the aggregate has the last word: this view may lag a little)."""
    rows = await pool.fetch(
        """SELECT alert_id FROM notification.alert_inbox
           WHERE status = 'delivered' AND acknowledged_at IS NULL AND escalated_at IS NULL
             AND delivered_at < $2::timestamptz - make_interval(secs => $1)""",
        timeout_seconds, now,
    )
    return [row["alert_id"] for row in rows]
