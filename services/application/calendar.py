"""The calendar read model: which orders end when, which complaints are due by when, and
what has been raised for them."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.domain import DomainEventProtocol

from plumbing.eventstore import EventSourcedService
from plumbing.projection import LocalProjection
from services.application.domain import Application, Order
from services.application.domain_dates import months_earlier

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
CREATE TABLE IF NOT EXISTS application.complaint_deadlines (
    application_id uuid PRIMARY KEY,
    matter_on date NOT NULL,
    before_court boolean NOT NULL DEFAULT true,
    warned_for date
);
"""


def apply(cursor: Any, event: DomainEventProtocol) -> None:
    order_id = event.originator_id
    if isinstance(event, Application.MatterDateRecorded):
        cursor.execute(
            """INSERT INTO application.complaint_deadlines (application_id, matter_on)
               VALUES (%s, %s) ON CONFLICT (application_id) DO UPDATE SET matter_on = %s""",
            (event.originator_id, event.matter_on, event.matter_on),
        )
    elif isinstance(event, Application.ComplaintDeadlineApproaching):
        cursor.execute(
            "UPDATE application.complaint_deadlines SET warned_for = %s WHERE application_id = %s",
            (event.deadline, event.originator_id),
        )
    elif isinstance(event, Application.ApplicationMade | Application.OutcomeRecorded):
        cursor.execute(
            "UPDATE application.complaint_deadlines SET before_court = false "
            "WHERE application_id = %s",
            (event.originator_id,),
        )
    elif isinstance(event, Order.Granted):
        cursor.execute(
            """INSERT INTO application.order_calendar (order_id, reference, ends_on)
               VALUES (%s, %s, %s) ON CONFLICT DO NOTHING""",
            (order_id, Order.reference_for(order_id, event.made_on), event.ends_on),
        )
    elif isinstance(event, Order.Varied | Order.Renewed):
        cursor.execute(
            "UPDATE application.order_calendar SET ends_on = %s WHERE order_id = %s",
            (event.ends_on, order_id),
        )
    elif isinstance(event, Order.RenewalReviewDue):
        cursor.execute(
            "UPDATE application.order_calendar SET review_raised_for = %s WHERE order_id = %s",
            (event.ends_on, order_id),
        )
    elif isinstance(event, Order.Expired):
        cursor.execute(
            "UPDATE application.order_calendar SET expired = true WHERE order_id = %s",
            (order_id,),
        )


def calendar_projection(service: EventSourcedService) -> LocalProjection:
    return LocalProjection("calendar", DDL, apply, Application, Order)


async def orders_due(pool: asyncpg.Pool, today: date, review_months: int) -> list[UUID]:
    """Orders that may have a review or an expiry due today (the aggregate has the last word)."""
    rows = await pool.fetch(
        """SELECT order_id FROM application.order_calendar
           WHERE NOT expired AND ends_on IS NOT NULL
             AND (ends_on <= $1
                  OR (ends_on <= $2 AND review_raised_for IS DISTINCT FROM ends_on))""",
        today,
        months_earlier(today, -review_months),
    )
    return [row["order_id"] for row in rows]


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
