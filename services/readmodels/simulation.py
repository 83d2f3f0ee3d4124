"""What would another caseworker buy? A discrete-event simulation (simpy) of the casework
queue, fitted to the period's arrivals, declines, case durations and caseloads.

The model: referrals arrive at the period's rate (a Poisson process) and wait, first come
first served, until a caseworker has room for another case. Each caseworker holds at most as
many cases at once as the busiest caseworker held at any month's end of the period. A case
taken on is declined at once in the period's share of cases, or else is worked until the
court decides, for as long as one of the period's decided cases took from being taken on
(drawn at random from them), and ends in a full order in the period's share. Every run is
seeded, so the same history gives the same forecast; the bands are the 5th and 95th
percentiles of the runs.

The fit is checked by simulating the period itself, with the caseworkers it had: the orders
it obtained should fall within the simulated band.
"""

import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date
from statistics import median, quantiles

import simpy

from services.readmodels.capacity import DAY, Capacity, Case

RUNS = 200
WARM_UP_DAYS = 365  # the queue fills from empty before the measured years begin
MONTH = 365.25 / 12
CASEWORKERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Fit:
    """What the simulation takes from the period."""

    days: int  # the period's length
    arrivals_per_day: float
    declined_share: float
    ordered_share: float  # of the cases decided by a court
    work_days: tuple[float, ...]  # taken on to decided, of each case decided in the period
    cases_per_caseworker: int  # the most one caseworker held at a month's end
    caseworkers: int  # in the period
    orders: int  # full orders obtained in the period

    @property
    def usable(self) -> bool:
        return bool(self.work_days and self.arrivals_per_day and self.caseworkers)


@dataclass(frozen=True)
class Band:
    low: float
    middle: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> "Band":
        if len(values) < 2:
            value = values[0] if values else 0.0
            return cls(value, value, value)
        cuts = quantiles(values, n=20, method="inclusive")
        return cls(cuts[0], median(values), cuts[-1])

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Scenario:
    caseworkers: int
    orders_per_year: Band
    queue_length: Band  # referrals waiting, on average over the months
    time_to_order_days: Band  # median, referral to order


@dataclass(frozen=True)
class WhatIf:
    fit: Fit
    runs: int
    observed_period: Band  # full orders in a simulated period with its caseworkers
    scenarios: tuple[Scenario, ...]

    @property
    def reproduces_the_period(self) -> bool:
        return self.observed_period.holds(self.fit.orders)


def fit(cases: list[Case], capacity: Capacity, start: date, end: date) -> Fit:
    days = (end - start).days + 1
    arrived = [c for c in cases if start <= c.referred.date() <= end]
    closed = [c for c in cases if c.closed and start <= c.closed.date() <= end]
    decided = [c for c in closed if c.outcome != "declined"]
    work = [_work_days(c) for c in decided]
    held = [n for month in capacity.caseload.values() for n in month.values()]
    return Fit(
        days=days,
        arrivals_per_day=len(arrived) / days,
        declined_share=_share(len(closed) - len(decided), len(closed)),
        ordered_share=_share(sum(1 for c in decided if c.ordered_on), len(decided)),
        work_days=tuple(sorted(d for d in work if d is not None)),
        cases_per_caseworker=max(held, default=0) or 1,
        caseworkers=capacity.caseworkers,
        orders=capacity.full_orders,
    )


def _work_days(case: Case) -> float | None:
    taken = case.accepted()
    if taken is None or case.closed is None:
        return None
    return max(0.0, (case.closed - taken).total_seconds() / DAY)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def what_if(fitted: Fit, runs: int = RUNS, seed: int = 2020) -> WhatIf | None:
    """The forecast for 1 to 4 caseworkers, and the check against the period; None when the
    period has too little to fit (no arrivals, no decided case, or no caseworker)."""
    if not fitted.usable:
        return None
    check = [_run(fitted, fitted.caseworkers, seed + r).orders for r in range(runs)]
    return WhatIf(
        fit=fitted,
        runs=runs,
        observed_period=Band.of([float(n) for n in check]),
        scenarios=tuple(_scenario(fitted, n, runs, seed) for n in CASEWORKERS),
    )


def _scenario(fitted: Fit, caseworkers: int, runs: int, seed: int) -> Scenario:
    results = [_run(fitted, caseworkers, seed + r) for r in range(runs)]
    years = fitted.days / 365.25
    return Scenario(
        caseworkers=caseworkers,
        orders_per_year=Band.of([r.orders / years for r in results]),
        queue_length=Band.of([r.mean_queue for r in results]),
        time_to_order_days=Band.of([r.median_time_to_order for r in results]),
    )


@dataclass(frozen=True)
class Run:
    orders: int
    mean_queue: float
    median_time_to_order: float


def _run(fitted: Fit, caseworkers: int, seed: int) -> Run:
    """One simulated period, after a year's warm-up."""
    rng = random.Random(seed)
    env = simpy.Environment()
    room = simpy.Resource(env, capacity=caseworkers * fitted.cases_per_caseworker)
    ends = WARM_UP_DAYS + fitted.days
    to_order: list[float] = []
    queue_at_month_ends: list[int] = []

    def case(arrived: float) -> Generator[simpy.Event, object, None]:
        with room.request() as taken_on:
            yield taken_on
            if rng.random() < fitted.declined_share:
                return
            yield env.timeout(rng.choice(fitted.work_days))
        if rng.random() < fitted.ordered_share and WARM_UP_DAYS <= env.now < ends:
            to_order.append(env.now - arrived)

    def arrivals() -> Generator[simpy.Event, object, None]:
        while True:
            yield env.timeout(rng.expovariate(fitted.arrivals_per_day))
            env.process(case(env.now))

    def count_queue() -> Generator[simpy.Event, object, None]:
        yield env.timeout(WARM_UP_DAYS)
        while True:
            yield env.timeout(MONTH)
            queue_at_month_ends.append(len(room.queue))

    for process in (arrivals, count_queue):
        env.process(process())
    env.run(until=ends)
    return Run(
        orders=len(to_order),
        mean_queue=_mean(queue_at_month_ends),
        median_time_to_order=median(to_order) if to_order else 0.0,
    )


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0
