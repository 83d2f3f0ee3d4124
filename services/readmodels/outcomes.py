"""Outcomes over time: breaches per 100 order-months of each order type, and time from an order
to its first breach as a Kaplan–Meier curve, censored where the order ended (discharge, expiry,
replacement) or the period did.

One SQL query reads each order's spell and its breaches from the order and breach registers;
the figures are plain functions of the spells. The Kaplan–Meier estimate is written out here
(the product-limit formula is a few lines) rather than taken from lifelines, which would bring
pandas, SciPy, matplotlib and autograd into the services' image for one curve.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

ALL = "all"
MONTH_DAYS = 365.25 / 12
LOCAL_TIME = "Europe/London"


@dataclass(frozen=True)
class Spell:
    """An order's time in force: from the day it was made to the day it ended (None: it had
    not ended), and the days its breaches happened."""

    order_type: str
    made_on: date
    ended_on: date | None
    breaches: tuple[date, ...]

    def days_in_force(self, start: date, end: date) -> int:
        """Days of [start, end] the order was in force (over from its end date)."""
        first = max(self.made_on, start)
        after = min(self.ended_on or end + timedelta(days=1), end + timedelta(days=1))
        return max(0, (after - first).days)

    def first_breach(self, end: date) -> tuple[int, bool]:
        """Days from the order to its first breach (True), or to when it was last watched:
        its end or the period's, whichever came first (False, censored)."""
        watched_to = min(self.ended_on or end, end)
        breached = [d for d in self.breaches if d <= watched_to]
        if breached:
            return (min(breached) - self.made_on).days, True
        return (watched_to - self.made_on).days, False


async def fetch_spells(db: asyncpg.Connection, end: date) -> list[Spell]:
    """Every order made by `end`, with the days of its breaches (UK time)."""
    rows = await db.fetch(
        f"""SELECT o.order_type, o.made_on, coalesce(o.ended_on, o.ends_on) AS ended_on,
                   coalesce(array_agg((b.occurred_at AT TIME ZONE '{LOCAL_TIME}')::date
                                      ORDER BY b.occurred_at)
                            FILTER (WHERE b.breach_id IS NOT NULL), '{{}}') AS breaches
            FROM rm_orders.orders o
            LEFT JOIN rm_breaches.breaches b USING (order_reference)
            WHERE o.made_on <= $1
            GROUP BY o.order_reference ORDER BY o.made_on, o.order_reference""",
        end,
    )  # fmt: skip
    return [Spell(r["order_type"], r["made_on"], r["ended_on"], tuple(r["breaches"])) for r in rows]


@dataclass(frozen=True)
class Step:
    day: int
    at_risk: int
    breached: int
    censored: int
    without_breach: float  # the share still without a breach after this day


@dataclass(frozen=True)
class Outcomes:
    rates: dict[str, dict[str, float | None]]  # order type -> breaches, order-months, rate
    survival: dict[str, list[Step]]  # full order type or 'all' -> the Kaplan-Meier steps
    orders_followed: dict[str, int]  # full orders made in the period, by type or 'all'


def outcomes(spells: list[Spell], start: date, end: date) -> Outcomes:
    made = [s for s in spells if start <= s.made_on <= end and not s.order_type.startswith("in")]
    by_type = {
        t: [s for s in made if s.order_type == t] for t in sorted({s.order_type for s in made})
    }
    groups = {**by_type, ALL: made} if made else {}
    return Outcomes(
        rates=breach_rates(spells, start, end),
        survival={
            name: kaplan_meier(s.first_breach(end) for s in group) for name, group in groups.items()
        },
        orders_followed={name: len(group) for name, group in groups.items()},
    )


def breach_rates(spells: list[Spell], start: date, end: date) -> dict[str, dict[str, float | None]]:
    """Breaches in the period per 100 months that orders of each type were in force in it."""
    totals: dict[str, list[float]] = {}
    for spell in spells:
        days = spell.days_in_force(start, end)
        breaches = sum(1 for d in spell.breaches if start <= d <= end)
        if days or breaches:
            for name in (spell.order_type, ALL):
                total = totals.setdefault(name, [0.0, 0.0, 0.0])
                total[0] += 1 if days else 0
                total[1] += breaches
                total[2] += days / MONTH_DAYS
    return {
        name: {
            "orders in force": orders,
            "breaches": breaches,
            "order-months": months,
            "breaches per 100 order-months": 100 * breaches / months if months else None,
        }
        for name, (orders, breaches, months) in sorted(totals.items(), key=lambda kv: kv[0] == ALL)
    }


def kaplan_meier(observations: Iterable[tuple[int, bool]]) -> list[Step]:
    """The product-limit estimate: at each day a breach or a censoring happened, the share of
    orders still without a breach; an order censored on a day is at risk on that day."""
    seen = sorted(observations)
    at_risk, survival, steps = len(seen), 1.0, []
    for day in sorted({d for d, _ in seen}):
        breached = sum(1 for d, event in seen if d == day and event)
        censored = sum(1 for d, event in seen if d == day and not event)
        survival *= 1 - breached / at_risk
        steps.append(Step(day, at_risk, breached, censored, survival))
        at_risk -= breached + censored
    return steps


def without_breach_after(steps: list[Step], day: int) -> float | None:
    """The estimated share without a breach `day` days after the order; None past the last
    order followed that long."""
    if not steps or day > steps[-1].day:
        return None
    return next((s.without_breach for s in reversed(steps) if s.day <= day), 1.0)
