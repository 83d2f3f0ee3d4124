"""The what-if simulation: seeded, fitted to the period, and checked against it."""

import pytest

from services.readmodels.capacity import capacity
from services.readmodels.simulation import Fit, fit, what_if
from tests.unit.test_capacity import END, GRANTED, HISTORY, START

# about a referral a month, one in ten declined; cases worked for 80 to 410 days
PRACTICE = Fit(
    days=1157, arrivals_per_day=39 / 1157, declined_share=0.1, ordered_share=0.97,
    work_days=tuple(float(d) for d in range(80, 420, 10)), cases_per_caseworker=6,
    caseworkers=2, orders=37,
)  # fmt: skip


def test_the_fit_takes_the_periods_arrivals_declines_durations_and_caseloads() -> None:
    fitted = fit(HISTORY, capacity(HISTORY, {}, START, END, 33684), START, END)

    # four referrals in 90 days; of three closed, one declined; both decided got an order
    assert fitted.arrivals_per_day == pytest.approx(4 / 90)
    assert (fitted.declined_share, fitted.ordered_share) == (pytest.approx(1 / 3), 1)
    # taken on 8 January, decided 15 February at midday; the late one held from its referral
    assert fitted.work_days == (38.5, 99.5) and GRANTED.accepted() is not None
    assert (fitted.cases_per_caseworker, fitted.caseworkers, fitted.orders) == (2, 2, 2)


def test_the_same_history_gives_the_same_forecast() -> None:
    assert what_if(PRACTICE, runs=20) == what_if(PRACTICE, runs=20)
    assert what_if(PRACTICE, runs=20) != what_if(PRACTICE, runs=20, seed=1)


def test_simulating_the_period_reproduces_its_orders_within_the_band() -> None:
    forecast = what_if(PRACTICE, runs=60)

    assert forecast is not None and forecast.reproduces_the_period
    assert forecast.observed_period.low < 37 < forecast.observed_period.high


def test_one_caseworker_makes_a_queue_that_a_second_clears() -> None:
    forecast = what_if(PRACTICE, runs=60)
    assert forecast is not None
    one, two, three, four = forecast.scenarios

    assert one.queue_length.middle > 2 and two.queue_length.middle < 1
    assert one.time_to_order_days.middle > two.time_to_order_days.middle + 60
    assert one.orders_per_year.middle < two.orders_per_year.middle
    # beyond the demand, more caseworkers obtain no more orders
    assert three.orders_per_year.middle == pytest.approx(two.orders_per_year.middle, rel=0.1)
    assert four.caseworkers == 4


def test_a_period_with_nothing_decided_has_no_forecast() -> None:
    assert what_if(Fit(90, 0.0, 0.0, 0.0, (), 1, 0, 0)) is None
