"""The order calendar read model: which orders end when, and what has been raised for them."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.domain import DomainEventProtocol

from plumbing.eventstore import EventSourcedService
from plumbing.projection import LocalProjection
from services.application.domain import Order
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
"""


def apply(cursor: Any, event: DomainEventProtocol) -> None:
    order_id = event.originator_id
    if isinstance(event, Order.Granted):
        cursor.execute(
            """INSERT INTO application.order_calendar (order_id, reference, ends_on)
               VALUES (%s, %s, %s) ON CONFLICT DO NOTHING""",
            (order_id, Order.reference_for(order_id, event.made_on), event.ends_on),
        )
    elif isinstance(event, Order.Varied):
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
    return LocalProjection(service, "order-calendar", DDL, apply)


async def orders_due(pool: asyncpg.Pool, today: date, review_months: int) -> list[UUID]:
    """Orders that may have a review or an expiry due today (the aggregate has the last word)."""
    rows = await pool.fetch(
        """SELECT order_id FROM application.order_calendar
           WHERE NOT expired AND ends_on IS NOT NULL
             AND (ends_on <= $1
                  OR (ends_on <= $2 AND review_raised_for IS DISTINCT FROM ends_on))""",
        today,
        _add_months(today, review_months),
    )
    return [row["order_id"] for row in rows]


def _add_months(day: date, months: int) -> date:
    return months_earlier(day, -months)
