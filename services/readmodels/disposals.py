"""Disposals around orders: the non-positive disposals naming each person under an order, in
the time after their order and in an equal time before it, per person-year, by order type.

The districts send disposals on `district.disposals.v1` to the referral service, which
screens them and publishes on `referral.disposals.v1` each one it took that names someone an
order was made against (those before their first order when it is made), and how far back
what it took reaches (a district's topic is no history: the broker may forget it, and
nothing could rebuild from it). A projection
keeps of each only the person, known by the id of their key (the nominal is sealed with it,
as it is on their orders), the day the crime was closed and its outcome code: nothing that
reads as anyone. The figures are plain functions of the orders and those rows, which the
unit tests check against a hand-computed history.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from plumbing.readmodel import Projection, Write
from schemas.personal import pseudonym
from schemas.referral import DisposalScreenedV1, ScreeningCoverageV1

ALL = "all"
YEAR_DAYS = 365.25

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.disposals (
    disposal_id uuid PRIMARY KEY,
    subject text NOT NULL,
    disposed_on date NOT NULL,
    outcome_code text NOT NULL
);
CREATE INDEX IF NOT EXISTS disposals_by_subject ON {schema}.disposals (subject, disposed_on);
CREATE TABLE IF NOT EXISTS {schema}.coverage (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    earliest_disposed_on date NOT NULL
);
"""


def screened(e: DisposalScreenedV1) -> list[Write]:
    p = e.payload
    return [Write(
        "INSERT INTO {schema}.disposals VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        (e.aggregate_id, pseudonym(p.suspect_nominal_id), p.disposed_on, p.outcome_code),
    )]  # fmt: skip


def covered(e: ScreeningCoverageV1) -> list[Write]:
    return [Write(
        """INSERT INTO {schema}.coverage VALUES (true, $1) ON CONFLICT (only_row) DO UPDATE
           SET earliest_disposed_on = least(coverage.earliest_disposed_on, $1)""",
        (e.payload.earliest_disposed_on,),
    )]  # fmt: skip


PROJECTION = Projection(
    name="disposals",
    description="Non-positive disposals naming someone an order was made against: the "
    "person (by key id), the day the crime was closed, the outcome code; and the day the "
    "earliest disposal screened was closed.",
    ddl=DDL,
    handlers={DisposalScreenedV1: screened, ScreeningCoverageV1: covered},
    tables=("disposals", "coverage"),
)

CAVEATS = (
    "A disposal is not a conviction, nor a finding that the person did anything: it records "
    "that a crime naming them as suspect was closed without a charge or caution.",
    "A disposal is dated when the crime was closed, not when it happened: one closed after "
    "the order may be of conduct before it.",
    "Displacement: behaviour an order prevents in one place or way may move to another, or "
    "out of the force's area, where these figures do not see it.",
    "Detection changes under management: a person visited and watched by a MOSOVO team is "
    "more likely to be suspected and named after the order than before it, so a rise can "
    "mean closer watching, and a fall need not mean less offending.",
    "Small numbers: a few people and a few disposals either way is within chance; no test "
    "of significance is made, and there is no comparison group.",
    "Only disposals the referral service screened are counted (those with an outcome code "
    "its screening rules named when each arrived), and only from the day the earliest it "
    "screened was closed: a window before an order that reaches further back counts none "
    "there.",
)


@dataclass(frozen=True)
class FirstOrder:
    """A person's first full order: whom it is about (by key id), its type, the day it was
    made and the day it ended (None: it had not)."""

    subject: str
    order_type: str
    made_on: date
    ended_on: date | None


@dataclass(frozen=True)
class Followed:
    """One person's windows: `days` from their order (to its end or the period's), and as
    many days just before it, with the disposals naming them in each."""

    order: FirstOrder
    days: int
    before: int
    after: int

    @property
    def before_from(self) -> date:
        return self.order.made_on - timedelta(days=self.days)


Figures = dict[str, float | None]


@dataclass(frozen=True)
class DisposalsAround:
    figures: dict[str, Figures]  # order type or 'all' -> measure -> value
    first_on_record: date | None  # the day the earliest disposal screened was closed
    before_the_record: int  # people whose window before starts before it (or: none held)


def first_orders(orders: Iterable[FirstOrder]) -> list[FirstOrder]:
    """Each person's first full order (the earliest made; of two on one day, either)."""
    first: dict[str, FirstOrder] = {}
    for order in sorted(orders, key=lambda o: (o.made_on, o.order_type)):
        first.setdefault(order.subject, order)
    return list(first.values())


def follow(order: FirstOrder, disposals: Iterable[date], end: date) -> Followed | None:
    """The person's disposals in the days from the order to when it was last watched (its end,
    or the period's: censored there) and in as many days just before it; None if not a day."""
    over = min(order.ended_on or end + timedelta(days=1), end + timedelta(days=1))
    days = (over - order.made_on).days
    if days <= 0:
        return None
    before_from = order.made_on - timedelta(days=days)
    days_of = list(disposals)
    return Followed(
        order,
        days,
        before=sum(1 for d in days_of if before_from <= d < order.made_on),
        after=sum(1 for d in days_of if order.made_on <= d < over),
    )


def disposals_around(
    orders: Iterable[FirstOrder],
    disposals: Iterable[tuple[str, date]],
    start: date,
    end: date,
    first_on_record: date | None,
) -> DisposalsAround:
    """For each person whose first full order was made in [start, end], their disposals before
    and after it, summed by order type and over all."""
    by_person: dict[str, list[date]] = defaultdict(list)
    for subject, day in disposals:
        by_person[subject].append(day)
    people = [
        followed
        for order in first_orders(orders)
        if start <= order.made_on <= end
        and (followed := follow(order, by_person.get(order.subject, ()), end))
    ]
    groups: dict[str, list[Followed]] = defaultdict(list)
    for followed in people:
        groups[followed.order.order_type].append(followed)
    if people:
        groups[ALL] = people
    early = [f for f in people if first_on_record is None or f.before_from < first_on_record]
    return DisposalsAround(
        {scope: window_figures(group) for scope, group in groups.items()},
        first_on_record,
        len(early),
    )


def window_figures(people: list[Followed]) -> Figures:
    years = sum(f.days for f in people) / YEAR_DAYS
    before, after = sum(f.before for f in people), sum(f.after for f in people)
    return {
        "people followed": len(people),
        "person-years in each window": years,
        "disposals before": before,
        "disposals after": after,
        "disposals per person-year before": before / years if years else None,
        "disposals per person-year after": after / years if years else None,
        "people with a disposal before": sum(1 for f in people if f.before),
        "people with a disposal after": sum(1 for f in people if f.after),
    }


async def fetch_disposals_around(db: asyncpg.Connection, start: date, end: date) -> DisposalsAround:
    """Every full order made by `end` (each person's first is the one followed) and the
    disposals naming their subjects by then."""
    rows = await db.fetch(
        """SELECT subject_nominal_id, order_type, made_on,
                  coalesce(ended_on, ends_on) AS ended_on
           FROM rm_orders.orders WHERE NOT interim AND made_on <= $1""",
        end,
    )
    orders = [
        FirstOrder(pseudonym(r["subject_nominal_id"]), r["order_type"], r["made_on"],
                   r["ended_on"])
        for r in rows
    ]  # fmt: skip
    found = await db.fetch(
        """SELECT subject, disposed_on FROM rm_disposals.disposals
           WHERE subject = ANY($1::text[]) AND disposed_on <= $2""",
        sorted({o.subject for o in orders}), end,
    )  # fmt: skip
    first = await db.fetchval(  # (a history from before coverage was sent: all were sent)
        """SELECT least((SELECT earliest_disposed_on FROM rm_disposals.coverage),
                        (SELECT min(disposed_on) FROM rm_disposals.disposals))"""
    )
    return disposals_around(
        orders, [(r["subject"], r["disposed_on"]) for r in found], start, end, first
    )
