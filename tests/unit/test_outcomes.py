"""Outcomes over time, checked against hand-computed histories: the exposure of orders in the
period, breaches per 100 order-months, and the Kaplan-Meier curve of time to first breach."""

from datetime import date

import pytest

from services.readmodels.outcomes import Spell, kaplan_meier, outcomes, without_breach_after

START, END = date(2021, 1, 1), date(2021, 12, 31)


def test_an_order_counts_only_its_days_in_force_within_the_period() -> None:
    before = Spell("SRO", date(2020, 7, 1), date(2021, 1, 31), ())
    inside = Spell("SRO", date(2021, 3, 1), date(2021, 3, 11), ())
    running = Spell("SHPO", date(2021, 12, 1), None, ())

    assert before.days_in_force(START, END) == 30  # over on its end date
    assert inside.days_in_force(START, END) == 10
    assert running.days_in_force(START, END) == 31


def test_time_to_first_breach_is_censored_at_the_orders_end_or_the_periods() -> None:
    breached = Spell("SRO", date(2021, 2, 1), None, (date(2021, 3, 3), date(2021, 2, 11)))
    ended = Spell("SRO", date(2021, 2, 1), date(2021, 4, 1), (date(2021, 5, 1),))
    running = Spell("SRO", date(2021, 12, 1), None, ())

    assert breached.first_breach(END) == (10, True)
    assert ended.first_breach(END) == (59, False)  # a breach after it ended is not its
    assert running.first_breach(END) == (30, False)


def test_the_kaplan_meier_curve_by_hand() -> None:
    # breaches at 10, 20, 20 and 50 days; censored at 20, 30 and 60
    steps = kaplan_meier([(10, True), (20, True), (20, True), (20, False), (30, False),
                          (50, True), (60, False)])  # fmt: skip

    assert [(s.day, s.at_risk, s.breached, s.censored) for s in steps] == [
        (10, 7, 1, 0), (20, 6, 2, 1), (30, 3, 0, 1), (50, 2, 1, 0), (60, 1, 0, 1),
    ]  # fmt: skip
    # 6/7; then x 4/6 = 4/7; unchanged at 30; x 1/2 = 2/7
    assert [s.without_breach for s in steps] == pytest.approx([6 / 7, 4 / 7, 4 / 7, 2 / 7, 2 / 7])
    assert without_breach_after(steps, 25) == pytest.approx(4 / 7)
    assert without_breach_after(steps, 5) == 1.0 and without_breach_after(steps, 61) is None


def test_breaches_per_100_order_months_by_order_type() -> None:
    spells = [
        Spell("SRO", date(2021, 1, 1), None, (date(2021, 2, 1), date(2021, 3, 1))),  # 365 days
        Spell("SRO", date(2020, 1, 1), date(2021, 7, 2), (date(2020, 6, 1),)),  # 182 days
        Spell("SHPO", date(2021, 7, 2), None, (date(2021, 8, 1),)),  # 183 days
        Spell("interim SRO", date(2022, 1, 1), None, ()),  # after the period
    ]
    found = outcomes(spells, START, END)

    months = 547 / (365.25 / 12)
    assert found.rates["SRO"]["breaches"] == 2 and found.rates["SRO"]["orders in force"] == 2
    assert found.rates["SRO"]["breaches per 100 order-months"] == pytest.approx(200 / months)
    assert found.rates["all"]["order-months"] == pytest.approx(730 / (365.25 / 12))
    assert set(found.rates) == {"SHPO", "SRO", "all"}
    # followed: the orders made in the period, interim ones aside
    assert found.orders_followed == {"SHPO": 1, "SRO": 1, "all": 2}
    assert [(s.day, s.breached) for s in found.survival["all"]] == [(30, 1), (31, 1)]
