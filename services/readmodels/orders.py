"""The order register: every order, live or ended, by district, team, type and end date."""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from plumbing.readmodel import Projection, Write, update
from schemas.application import (
    NationalRecordUpdatedV1,
    NationalRecordUpdateRequestedV1,
    NotificationKind,
    OrderAllocatedV1,
    OrderExpiredV1,
    OrderGrantedV1,
    OrderNotificationRecordedV1,
    OrderNotificationRequiredV1,
    OrderReallocatedV1,
    OrderRenewalReviewDueV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.common import Term

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.orders (
    order_reference text PRIMARY KEY,
    order_id uuid NOT NULL,
    application_id uuid NOT NULL,
    order_type text NOT NULL,
    interim boolean NOT NULL,
    subject_nominal_id text NOT NULL,
    district text NOT NULL,
    court text NOT NULL,
    made_on date NOT NULL,
    ends_on date,
    terms jsonb NOT NULL,
    team text,
    in_force boolean NOT NULL DEFAULT true,
    ended_on date,
    end_reason text,
    renewal_review_due boolean NOT NULL DEFAULT false,
    varied_on date,
    renewed_on date
);
-- added later (a register made before gains the columns): the subject's duty to notify
-- (whether a notification is overdue is worked out from the dates when read)
-- an SHPO made on conviction was granted on no application
ALTER TABLE {schema}.orders ALTER COLUMN application_id DROP NOT NULL;
ALTER TABLE {schema}.orders ADD COLUMN IF NOT EXISTS notification_requirement text,
    ADD COLUMN IF NOT EXISTS notification_due_on date,
    ADD COLUMN IF NOT EXISTS notified_on date,
    ADD COLUMN IF NOT EXISTS notified_late boolean;
-- the updates of the national record each order's changes need, from a topic of their own
-- (so kept apart: they may arrive before the order's own events)
CREATE TABLE IF NOT EXISTS {schema}.national_record (
    order_reference text PRIMARY KEY,
    outstanding integer NOT NULL,
    national_reference text
);
CREATE INDEX IF NOT EXISTS orders_by_team ON {schema}.orders (team, in_force);
CREATE INDEX IF NOT EXISTS orders_by_end
    ON {schema}.orders ((coalesce(ends_on, 'infinity'::date)), order_reference);
"""


def _terms(terms: list[Term]) -> str:
    return json.dumps([term.model_dump(mode="json") for term in terms])


def _order(key: str, **columns: Any) -> list[Write]:
    return [update("{schema}.orders", ("order_reference", key), **columns)]


def granted(e: OrderGrantedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.orders (order_reference, order_id, application_id, order_type,
               interim, subject_nominal_id, district, court, made_on, ends_on, terms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
           ON CONFLICT DO NOTHING""",
        (p.order_reference, e.aggregate_id, p.application_id, p.order_type.value, p.interim,
         p.subject_nominal_id, p.district, p.court, p.made_on, p.ends_on, _terms(p.terms)),
    )]  # fmt: skip


def allocated(e: OrderAllocatedV1) -> list[Write]:
    return _order(e.payload.order_reference, team=e.payload.team)


def reallocated(e: OrderReallocatedV1) -> list[Write]:
    return _order(e.payload.order_reference, team=e.payload.team)


def varied(e: OrderVariedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """UPDATE {schema}.orders SET ends_on = $2, terms = $3::jsonb, varied_on = $4,
               renewal_review_due = false WHERE order_reference = $1""",
        (p.order_reference, p.ends_on, _terms(p.terms), p.varied_on),
    )]  # fmt: skip


def renewed(e: OrderRenewedV1) -> list[Write]:
    p = e.payload
    return _order(
        p.order_reference, ends_on=p.ends_on, renewed_on=p.renewed_on, renewal_review_due=False
    )


def review_due(e: OrderRenewalReviewDueV1) -> list[Write]:
    return _order(e.payload.order_reference, renewal_review_due=True)


def expired(e: OrderExpiredV1) -> list[Write]:
    p = e.payload
    return _order(
        p.order_reference,
        in_force=False,
        ended_on=p.ended_on,
        end_reason=p.reason,
        renewal_review_due=False,
    )


def notification_required(e: OrderNotificationRequiredV1) -> list[Write]:
    p = e.payload
    return _order(
        p.order_reference, notification_requirement=p.requirement, notification_due_on=p.due_on
    )


def notification_recorded(e: OrderNotificationRecordedV1) -> list[Write]:
    p = e.payload
    if p.kind is not NotificationKind.INITIAL:
        return []
    return _order(p.order_reference, notified_on=p.notified_on, notified_late=p.late)


def national_record_requested(e: NationalRecordUpdateRequestedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.national_record (order_reference, outstanding) VALUES ($1, $2)
           ON CONFLICT (order_reference) DO UPDATE SET outstanding = excluded.outstanding""",
        (p.order_reference, p.outstanding),
    )]  # fmt: skip


def national_record_updated(e: NationalRecordUpdatedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.national_record VALUES ($1, $2, $3)
           ON CONFLICT (order_reference) DO UPDATE SET outstanding = excluded.outstanding,
               national_reference = excluded.national_reference""",
        (p.order_reference, p.outstanding, p.national_reference),
    )]  # fmt: skip


PROJECTION = Projection(
    name="orders",
    description="Every order, live or ended, by district, team, type and end date.",
    ddl=DDL,
    handlers={
        OrderGrantedV1: granted,
        OrderAllocatedV1: allocated,
        OrderReallocatedV1: reallocated,
        OrderVariedV1: varied,
        OrderRenewedV1: renewed,
        OrderRenewalReviewDueV1: review_due,
        OrderExpiredV1: expired,
        OrderNotificationRequiredV1: notification_required,
        OrderNotificationRecordedV1: notification_recorded,
        NationalRecordUpdateRequestedV1: national_record_requested,
        NationalRecordUpdatedV1: national_record_updated,
    },
    tables=("orders", "national_record"),
)


@dataclass(frozen=True)
class OrderFilter:
    team: str | None = None
    district: str | None = None
    in_force: bool | None = True
    renewal_due: bool | None = None
    order_reference: str | None = None
    national_record_pending: bool | None = None
    notification_overdue: bool | None = None


# Orders until further order (no end date) come last: asyncpg's date.max is PostgreSQL's
# 'infinity', so the key of such an order is its place in the sort.
OrderKey = tuple[date, str]


def order_key(row: dict[str, Any]) -> OrderKey:
    return row["ends_on"] or date.max, row["order_reference"]


def in_force_on(today: str) -> str:
    """SQL true of an order in force on the date in the parameter `today`: true when read, an
    order whose end date has come is over that day, whether or not the order calendar has
    recorded its expiry yet."""
    return f"(in_force AND (ends_on IS NULL OR ends_on > {today}::date))"


async def get_orders(
    pool: asyncpg.Pool, which: OrderFilter, after: OrderKey | None, limit: int, today: date
) -> list[dict[str, Any]]:
    """The register as it stands `today`, soonest-ending first, from just after the `after`
    order."""
    ends_on, reference = after or (None, None)
    live = in_force_on("$9")
    rows = await pool.fetch(
        f"""SELECT order_reference, order_id, order_type, interim, district, team, court,
                  made_on, ends_on, {live} AS in_force,
                  coalesce(ended_on, CASE WHEN NOT {live} THEN ends_on END) AS ended_on,
                  coalesce(end_reason, CASE WHEN NOT {live} THEN 'it reached its end date' END)
                      AS end_reason,
                  renewal_review_due AND {live} AS renewal_review_due, varied_on,
                  renewed_on, terms, notification_requirement, notification_due_on,
                  notified_on, notified_late,
                  notified_on IS NULL AND notification_due_on < $9::date AS notification_overdue,
                  coalesce(outstanding, 0) AS national_record_outstanding, national_reference
           FROM rm_orders.orders LEFT JOIN rm_orders.national_record USING (order_reference)
           WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR district = $2)
             AND ($3::boolean IS NULL OR {live} = $3)
             AND ($4::boolean IS NULL OR (renewal_review_due AND {live}) = $4)
             AND ($5::text IS NULL OR order_reference = $5)
             AND ($10::boolean IS NULL OR (coalesce(outstanding, 0) > 0) = $10)
             AND ($11::boolean IS NULL
                  OR coalesce(notified_on IS NULL AND notification_due_on < $9::date, false)
                     = $11)
             AND ($6::date IS NULL
                  OR (coalesce(ends_on, 'infinity'::date), order_reference) > ($6, $7::text))
           ORDER BY coalesce(ends_on, 'infinity'::date), order_reference LIMIT $8""",
        which.team, which.district, which.in_force, which.renewal_due, which.order_reference,
        ends_on, reference, limit, today, which.national_record_pending,
        which.notification_overdue,
    )  # fmt: skip
    return [dict(row, terms=json.loads(row["terms"])) for row in rows]
