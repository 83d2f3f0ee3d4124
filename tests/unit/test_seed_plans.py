"""The plans a seeded history is made from: plausible, and never in the future."""

from datetime import date

from civil_orders.drills.seed import plan_history, plan_outreach
from civil_orders.drills.synthetic import DISTRICTS


def test_a_history_of_a_larger_force_has_more_referrals_and_stays_in_the_past() -> None:
    today = date(2026, 11, 25)
    small, large = plan_history(3, "small", today), plan_history(3, "large", today)
    assert len(small) == 36 and len(large) == 120
    for plan in large:
        assert plan.referred_on < today
        assert all(plan.made_on and plan.made_on < b < today for b in plan.breaches)
    assert {p.outcome for p in large} == {"open", "declined", "withdrawn", "refused", "granted"}


def test_no_court_date_of_a_history_is_in_the_future_whatever_its_seed() -> None:
    today = date(2026, 11, 25)
    for seed in range(20):
        for plan in plan_history(3, "large", today, seed=seed):
            assert plan.made_on is None or plan.made_on < today, (seed, plan)


def test_a_history_holds_an_outreach_session_for_each_district_each_year_in_the_past() -> None:
    first, last = date(2023, 11, 25), date(2026, 11, 25)

    sessions = plan_outreach(first, last)

    assert {d for d, _, _ in sessions} == set(DISTRICTS) and 8 <= len(sessions) <= 16
    assert all(first < held_on <= last and audience.startswith(district)
               for district, held_on, audience in sessions)  # fmt: skip
