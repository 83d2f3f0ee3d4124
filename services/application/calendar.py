"""The calendar read model: which orders end when, whose first notification is due by when,
which national record updates are awaited by when (the ViSOR unit's queue), which complaints
are due by when, and what has been raised for them."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.projection import LocalProjection, update_row
from schemas.application import NotificationKind
from schemas.dates import months_after
from services.application.domain import Application, Order

DDL = """
CREATE TABLE IF NOT EXISTS application.order_calendar (
    order_id uuid PRIMARY KEY,
    reference text NOT NULL,
    ends_on date,
    review_raised_for date,
    expired boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS order_calendar_by_end ON application.order_calendar (ends_on)
    WHERE NOT expired;
CREATE TABLE IF NOT EXISTS application.notification_duties (
    order_id uuid PRIMARY KEY,
    due_on date NOT NULL,
    settled boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS application.national_record_tasks (
    task_id uuid PRIMARY KEY,
    order_id uuid NOT NULL,
    change text NOT NULL,
    detail text NOT NULL,
    effective_on date NOT NULL,
    due_at timestamptz NOT NULL,
    state text NOT NULL,
    national_reference text,
    acknowledged_by text,
    acknowledged_at timestamptz,
    escalated_at timestamptz
);
CREATE INDEX IF NOT EXISTS national_record_tasks_by_state
    ON application.national_record_tasks (state, due_at, task_id);
CREATE TABLE IF NOT EXISTS application.complaint_deadlines (
    application_id uuid PRIMARY KEY,
    matter_on date NOT NULL,
    before_court boolean NOT NULL DEFAULT true,
    warned_for date
);
"""


def _deadline(cursor: Any, event: Any, **columns: object) -> None:
    key = ("application_id", event.originator_id)
    update_row(cursor, "application.complaint_deadlines", key, **columns)


def _order(cursor: Any, event: Any, **columns: object) -> None:
    update_row(cursor, "application.order_calendar", ("order_id", event.originator_id), **columns)


def matter_date(cursor: Any, event: Application.MatterDateRecorded) -> None:
    cursor.execute(
        """INSERT INTO application.complaint_deadlines (application_id, matter_on)
           VALUES (%s, %s) ON CONFLICT (application_id) DO UPDATE SET matter_on = %s""",
        (event.originator_id, event.matter_on, event.matter_on),
    )


def granted(cursor: Any, event: Order.Granted) -> None:
    cursor.execute(
        """INSERT INTO application.order_calendar (order_id, reference, ends_on)
           VALUES (%s, %s, %s) ON CONFLICT DO NOTHING""",
        (event.originator_id, Order.reference_for(event.originator_id, event.made_on),
         event.ends_on),
    )  # fmt: skip


def notification_due(cursor: Any, event: Order.NotificationRequired) -> None:
    if event.due_on is not None:
        cursor.execute(
            """INSERT INTO application.notification_duties (order_id, due_on) VALUES (%s, %s)
               ON CONFLICT DO NOTHING""",
            (event.originator_id, event.due_on),
        )


def _duty_settled(cursor: Any, event: Any) -> None:
    """Made, raised as overdue, or the order ended: nothing more to watch for."""
    update_row(
        cursor, "application.notification_duties", ("order_id", event.originator_id), settled=True
    )


def notified(cursor: Any, event: Order.NotificationRecorded) -> None:
    if event.notification.kind == NotificationKind.INITIAL:
        _duty_settled(cursor, event)


def expired(cursor: Any, event: Order.Expired) -> None:
    _order(cursor, event, expired=True)
    _duty_settled(cursor, event)


def national_record_required(cursor: Any, event: Order.NationalRecordUpdateRequired) -> None:
    task = event.task
    cursor.execute(
        """INSERT INTO application.national_record_tasks
               (task_id, order_id, change, detail, effective_on, due_at, state)
           VALUES (%s, %s, %s, %s, %s, %s, 'awaiting') ON CONFLICT DO NOTHING""",
        (task.task_id, event.originator_id, task.change, task.detail, task.effective_on,
         task.due_at),
    )  # fmt: skip


def _task(cursor: Any, event: Any, **columns: object) -> None:
    update_row(cursor, "application.national_record_tasks", ("task_id", event.task_id), **columns)


CALENDAR = LocalProjection(
    "calendar",
    DDL,
    {
        Application.MatterDateRecorded: matter_date,
        Application.ComplaintDeadlineApproaching: lambda c, e: _deadline(
            c, e, warned_for=e.deadline
        ),
        Application.ApplicationMade: lambda c, e: _deadline(c, e, before_court=False),
        Application.OutcomeRecorded: lambda c, e: _deadline(c, e, before_court=False),
        Order.Granted: granted,
        Order.Varied: lambda c, e: _order(c, e, ends_on=e.ends_on),
        Order.Renewed: lambda c, e: _order(c, e, ends_on=e.ends_on),
        Order.RenewalReviewDue: lambda c, e: _order(c, e, review_raised_for=e.ends_on),
        Order.Expired: expired,
        Order.NotificationRequired: notification_due,
        Order.NotificationRecorded: notified,
        Order.NotificationOverdue: _duty_settled,
        Order.NationalRecordUpdateRequired: national_record_required,
        Order.NationalRecordUpdated: lambda c, e: _task(
            c, e, state="updated", national_reference=e.national_reference,
            acknowledged_by=e.trace.actor, acknowledged_at=e.at,
        ),  # fmt: skip
        Order.NationalRecordEscalated: lambda c, e: _task(
            c, e, state="escalated", escalated_at=e.at
        ),
    },
)


async def orders_due(
    pool: asyncpg.Pool, now: datetime, review_months: int
) -> list[UUID]:
    """Orders that may have a national record update past its time, an overdue notification,
    a review or an expiry due now (the aggregate has the last word)."""
    today = now.date()
    rows = await pool.fetch(
        """SELECT order_id FROM application.national_record_tasks
           WHERE state = 'awaiting' AND due_at < $3
           UNION
           SELECT order_id FROM application.notification_duties
           WHERE NOT settled AND due_on < $1
           UNION
           SELECT order_id FROM application.order_calendar
           WHERE NOT expired AND ends_on IS NOT NULL
             AND (ends_on <= $1
                  OR (ends_on <= $2 AND review_raised_for IS DISTINCT FROM ends_on))""",
        today,
        months_after(today, review_months),
        now,
    )
    return [row["order_id"] for row in rows]


TaskKey = tuple[datetime, UUID]


def task_key(row: dict[str, Any]) -> TaskKey:
    return row["due_at"], row["task_id"]


async def national_record_tasks(
    pool: asyncpg.Pool,
    state: str | None,
    order_id: UUID | None,
    after: TaskKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The ViSOR unit's queue: national record updates, soonest due first, with their order's
    reference; from just after `after`."""
    due_at, task_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT t.*, c.reference AS order_reference
           FROM application.national_record_tasks t
           JOIN application.order_calendar c USING (order_id)
           WHERE ($1::text IS NULL OR t.state = $1) AND ($2::uuid IS NULL OR t.order_id = $2)
             AND ($3::timestamptz IS NULL OR (t.due_at, t.task_id) > ($3, $4::uuid))
           ORDER BY t.due_at, t.task_id LIMIT $5""",
        state, order_id, due_at, task_id, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def deadlines_near(
    pool: asyncpg.Pool, today: date, limit_months: int, warning_days: int
) -> list[UUID]:
    """Applications not yet before a court whose complaint deadline is within the warning
    period and not yet warned of (the aggregate has the last word)."""
    rows = await pool.fetch(
        """SELECT application_id FROM application.complaint_deadlines
           WHERE before_court
             AND (matter_on + make_interval(months => $2))::date
                 BETWEEN $1 AND $1 + $3::int
             AND warned_for IS DISTINCT FROM (matter_on + make_interval(months => $2))::date""",
        today,
        limit_months,
        warning_days,
    )
    return [row["application_id"] for row in rows]
