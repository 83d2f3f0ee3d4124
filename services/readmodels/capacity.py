"""Capacity and cost, from the events: how long cases spend in each stage, how many each
caseworker holds, how long the queue is and how old, what arrives each month, orders per
caseworker-year and the staff cost of each order.

One SQL query reads each case's timeline from the read models (the caseload, the order
register and the published events of the audit trail); the figures are worked out from the
timelines by plain functions, which the unit tests check against hand-computed histories.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean, median
from typing import Any
from uuid import UUID

import asyncpg

PROACTIVE = "proactive scan"
DAY = 86400.0
STAGES = ("awaiting triage", "triage", "drafting", "quality assurance", "with legal services",
          "at court")  # fmt: skip
STAGE_OF = {  # a referral's status or an application's stage -> the stage of the casework
    "received": "awaiting triage",
    "under review": "triage",
    "returned for information": "triage",
    "accepted": "triage",
    "drafting": "drafting",
    "quality assurance": "quality assurance",
    "with legal services": "with legal services",
    "application made to court": "at court",
    "hearing listed": "at court",
}
ENDS = ("declined", "decided")
DECIDED_AT = time(12)  # a decision is recorded by its date: it counts at midday (UTC)


@dataclass(frozen=True)
class Case:
    """One referral's path through the casework, as the read models hold it."""

    referral_id: UUID
    source: str  # 'district' or 'proactive scan'
    caseworker: str | None
    referred: datetime  # when the referral was made
    steps: tuple[tuple[datetime, str], ...]  # (when recorded, status or stage), oldest first
    closed: datetime | None  # declined, or the application decided (None: still open)
    outcome: str | None  # 'declined', or the application's: granted, refused, withdrawn...
    order_type: str | None = None  # the full order obtained, if one was
    ordered_on: date | None = None

    @property
    def entered_late(self) -> bool:
        """Its steps were recorded after it was decided (a history entered afterwards), or
        not at all: when each happened is not known, only when the case began and ended."""
        if self.closed is None:
            return False
        last_day = datetime.combine(self.closed.date() + timedelta(days=1), time(), UTC)
        steps = [at for at, status in self.steps if status not in ENDS]
        return not steps or any(at >= last_day for at in steps)

    def accepted(self) -> datetime | None:
        """When a caseworker took it on (of a case entered late: when it was referred)."""
        if self.outcome in (None, "declined") and not self._step("accepted"):
            return None
        if self.entered_late:
            return self.referred
        return self._step("accepted") or self._step("drafting") or self.referred

    def _step(self, status: str) -> datetime | None:
        return next((at for at, s in self.steps if s == status), None)

    def stage_days(self) -> dict[str, float]:
        """Days spent in each stage, from referral to decision; empty while open or when its
        steps were not recorded as they happened."""
        if self.closed is None or self.entered_late:
            return {}
        days: dict[str, float] = {}
        moments = [(self.referred, "received"), *self.steps, (self.closed, "decided")]
        moments = [(min(max(at, self.referred), self.closed), s) for at, s in moments]
        for (began, status), (ended, _) in zip(moments, moments[1:], strict=False):
            if stage := STAGE_OF.get(status):
                days[stage] = days.get(stage, 0.0) + (ended - began).total_seconds() / DAY
        return days

    def in_queue_on(self, moment: datetime) -> bool:
        """Referred and not yet taken on or declined at `moment`."""
        taken = self.accepted() or self.closed
        return self.referred <= moment and (taken is None or taken > moment)

    def held_on(self, moment: datetime) -> bool:
        """Taken on by a caseworker and not yet decided at `moment`."""
        taken = self.accepted()
        return (
            taken is not None and taken <= moment and (self.closed is None or self.closed > moment)
        )


async def fetch_cases(db: asyncpg.Connection, end: date) -> list[Case]:
    """Every referral made by `end`, with its steps as published, its decision and order."""
    rows = await db.fetch(
        f"""SELECT r.referral_id,
                   CASE WHEN r.source = '{PROACTIVE}' THEN '{PROACTIVE}' ELSE 'district' END
                       AS source,
                   r.caseworker, r.referred_on, r.received_at, r.status, r.status_since,
                   a.outcome, a.decided_on, o.order_type, o.made_on,
                   (SELECT coalesce(json_agg(json_build_array(e.occurred_at, CASE e.event_type
                               WHEN 'ReferralStatusChanged' THEN e.payload->>'status'
                               WHEN 'ReferralAccepted' THEN 'accepted'
                               WHEN 'ApplicationOpened' THEN 'drafting'
                               ELSE e.payload->>'stage' END)
                             ORDER BY e.occurred_at), '[]')
                    FROM rm_audit.events e
                    WHERE e.aggregate_id IN (r.referral_id, a.application_id)
                      AND e.event_type IN ('ReferralStatusChanged', 'ReferralAccepted',
                                           'ApplicationOpened', 'ApplicationStageChanged')
                   ) AS steps
            FROM rm_caseload.referrals r
            LEFT JOIN LATERAL (SELECT * FROM rm_caseload.applications a
                               WHERE a.referral_id = r.referral_id
                               ORDER BY a.opened_at DESC NULLS LAST LIMIT 1) a ON true
            LEFT JOIN rm_orders.orders o ON o.application_id = a.application_id AND NOT o.interim
            WHERE r.referred_on <= $1
            ORDER BY r.referred_on, r.referral_id""",
        end,
    )  # fmt: skip
    return [_case(row) for row in rows]


def _case(row: Any) -> Case:
    referred = row["received_at"] or datetime.combine(row["referred_on"], time(), UTC)
    steps = tuple((datetime.fromisoformat(at), s) for at, s in json.loads(row["steps"]))
    closed, outcome = None, None
    if row["status"] == "declined":
        closed, outcome = row["status_since"], "declined"
    elif row["decided_on"] is not None:
        closed, outcome = datetime.combine(row["decided_on"], DECIDED_AT, UTC), row["outcome"]
    return Case(
        referral_id=row["referral_id"],
        source=row["source"],
        caseworker=row["caseworker"],
        referred=referred,
        steps=steps,
        closed=closed,
        outcome=outcome,
        order_type=row["order_type"],
        ordered_on=row["made_on"],
    )


# --- the figures ------------------------------------------------------------------------------

Table = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Capacity:
    """Capacity and cost over the period [start, end]."""

    stage_days: Table  # stage -> cases, median days, mean days, share of the time
    cases_timed: int  # cases decided in the period whose stages could be timed
    cases_not_timed: int  # decided in the period, steps recorded after the decision or not at all
    caseload: dict[str, dict[str, int]]  # month -> caseworker -> cases held at its end
    queue: Table  # month -> referrals waiting, median age days, oldest age days
    arrivals: dict[str, dict[str, int]]  # month -> source -> referrals made
    candidates: dict[str, int]  # month -> proactive-scan candidates raised
    caseworkers: int  # caseworkers costed
    caseworkers_given: bool  # as given, rather than those who held a case
    caseworker_years: float
    full_orders: int
    staff_cost_per_caseworker: float

    @property
    def orders_per_caseworker_year(self) -> float | None:
        return self.full_orders / self.caseworker_years if self.caseworker_years else None

    @property
    def staff_cost(self) -> float:
        return self.caseworker_years * self.staff_cost_per_caseworker

    @property
    def cost_per_order(self) -> float | None:
        return self.staff_cost / self.full_orders if self.full_orders else None


def capacity(
    cases: list[Case],
    candidates: dict[str, int],
    start: date,
    end: date,
    staff_cost: float,
    caseworkers: int | None = None,
) -> Capacity:
    """The figures of the period; `caseworkers` (default: those who held a case in it) are
    costed for the whole period."""
    in_period = [c for c in cases if c.closed and start <= c.closed.date() <= end]
    decided = [c for c in in_period if c.outcome != "declined"]
    timed = [c for c in decided if c.stage_days()]
    staff = caseworkers if caseworkers is not None else len(_caseworkers(cases, start, end))
    years = staff * ((end - start).days + 1) / 365.25
    return Capacity(
        stage_days=stage_figures([c.stage_days() for c in timed]),
        cases_timed=len(timed),
        cases_not_timed=sum(1 for c in decided if c.entered_late),
        caseload=caseload_by_month(cases, start, end),
        queue=queue_by_month(cases, start, end),
        arrivals=arrivals_by_month(cases, start, end),
        candidates=candidates,
        caseworkers=staff,
        caseworkers_given=caseworkers is not None,
        caseworker_years=years,
        full_orders=sum(1 for c in cases if c.ordered_on and start <= c.ordered_on <= end),
        staff_cost_per_caseworker=staff_cost,
    )


def stage_figures(cases: list[dict[str, float]]) -> Table:
    total = sum(sum(days.values()) for days in cases)
    figures: Table = {}
    for stage in STAGES:
        spent = [days[stage] for days in cases if stage in days]
        if spent:
            figures[stage] = {
                "cases": len(spent),
                "median days": median(spent),
                "mean days": mean(spent),
                "share of the time": sum(spent) / total if total else 0.0,
            }
    return figures


def month_ends(start: date, end: date) -> Iterator[tuple[str, datetime]]:
    """Each month of the period and the last moment of it that falls in the period."""
    first = start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        last = min(following - timedelta(days=1), end)
        yield f"{first:%Y-%m}", datetime.combine(last + timedelta(days=1), time(), UTC)
        first = following


def _caseworkers(cases: Iterable[Case], start: date, end: date) -> set[str]:
    began, ended = datetime.combine(start, time(), UTC), datetime.combine(end, time.max, UTC)
    return {
        c.caseworker
        for c in cases
        if c.caseworker and (taken := c.accepted()) and taken <= ended
        and (c.closed is None or c.closed >= began)
    }  # fmt: skip


def caseload_by_month(cases: list[Case], start: date, end: date) -> dict[str, dict[str, int]]:
    workers = sorted(_caseworkers(cases, start, end))
    return {
        month: {
            w: sum(1 for c in cases if c.caseworker == w and c.held_on(moment)) for w in workers
        }
        for month, moment in month_ends(start, end)
    }


def queue_by_month(cases: list[Case], start: date, end: date) -> Table:
    table: Table = {}
    for month, moment in month_ends(start, end):
        ages = [(moment - c.referred).total_seconds() / DAY for c in cases if c.in_queue_on(moment)]
        table[month] = {
            "waiting": len(ages),
            "median age days": median(ages) if ages else 0.0,
            "oldest age days": max(ages, default=0.0),
        }
    return table


def arrivals_by_month(cases: list[Case], start: date, end: date) -> dict[str, dict[str, int]]:
    table = {month: {"district": 0, PROACTIVE: 0} for month, _ in month_ends(start, end)}
    for case in cases:
        if start <= case.referred.date() <= end:
            table[f"{case.referred:%Y-%m}"][case.source] += 1
    return table


async def fetch_candidates(db: asyncpg.Connection, start: date, end: date) -> dict[str, int]:
    """Proactive-scan candidates raised in each month of the period (every month shown)."""
    rows = await db.fetch(
        """SELECT to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*) AS n
           FROM rm_audit.events e WHERE e.event_type = 'ProactiveCandidateIdentified'
             AND (e.occurred_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2 GROUP BY 1""",
        start, end,
    )  # fmt: skip
    found = {row["month"]: row["n"] for row in rows}
    return {month: found.get(month, 0) for month, _ in month_ends(start, end)}
