"""Capacity and cost, worked out from a small history computed by hand: five referrals in
the first quarter of 2021, two caseworkers."""

import uuid
from datetime import UTC, date, datetime

import pytest

from services.readmodels.capacity import Case, capacity, stage_figures

START, END = date(2021, 1, 1), date(2021, 3, 31)


def at(month: int, day: int, hour: int = 0, year: int = 2021) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def case(referred: datetime, *steps: tuple[datetime, str], **rest: object) -> Case:
    fields: dict[str, object] = {"source": "district", "caseworker": None, "closed": None}
    fields |= {"outcome": None, **rest}
    return Case(uuid.uuid4(), referred=referred, steps=steps, **fields)  # type: ignore[arg-type]


# granted after 42.5 days: 2 awaiting triage, 2 in triage, 15 drafting (sent back once from
# quality assurance), 3 in QA, 10 with legal services, 10.5 at court (decided at midday)
GRANTED = case(
    at(1, 4),
    (at(1, 6), "under review"), (at(1, 8), "accepted"), (at(1, 8), "drafting"),
    (at(1, 18), "quality assurance"), (at(1, 20), "drafting"), (at(1, 25), "quality assurance"),
    (at(1, 26), "with legal services"), (at(2, 5), "application made to court"),
    (at(2, 6), "hearing listed"), (at(2, 15, 13), "decided"),
    caseworker="caseworker:cw-1", closed=at(2, 15, 12), outcome="granted", order_type="SRO",
    ordered_on=date(2021, 2, 15),
)  # fmt: skip
# proactive, taken on 5 February, still being drafted at the end of the period
OPEN = case(
    at(2, 1, 9), (at(2, 3), "under review"), (at(2, 5), "accepted"), (at(2, 5), "drafting"),
    source="proactive scan", caseworker="caseworker:cw-2",
)  # fmt: skip
# waiting at the end of March (12 days old), declined after the period
WAITING = case(at(3, 20), (at(3, 22), "under review"), (at(4, 2), "declined"),
               closed=at(4, 2), outcome="declined")  # fmt: skip
# referred in 2020, granted 10 March; its steps were entered in June, after the decision
LATE = case(
    at(12, 1, year=2020), (at(6, 1), "accepted"), (at(6, 1), "drafting"),
    (at(6, 1), "hearing listed"), caseworker="caseworker:cw-1", closed=at(3, 10, 12),
    outcome="granted", order_type="SRO", ordered_on=date(2021, 3, 10),
)  # fmt: skip
DECLINED = case(at(1, 10), (at(1, 11), "under review"), (at(1, 12), "declined"),
                closed=at(1, 12), outcome="declined")  # fmt: skip
HISTORY = [LATE, GRANTED, DECLINED, OPEN, WAITING]


def test_a_case_is_timed_stage_by_stage_from_referral_to_decision() -> None:
    assert GRANTED.stage_days() == {
        "awaiting triage": 2, "triage": 2, "drafting": 15, "quality assurance": 3,
        "with legal services": 10, "at court": 10.5,
    }  # fmt: skip


def test_a_case_whose_steps_were_entered_after_its_decision_is_not_timed() -> None:
    assert LATE.entered_late and LATE.stage_days() == {}
    assert LATE.accepted() == LATE.referred  # held from its referral
    assert OPEN.stage_days() == {} and not OPEN.entered_late


def test_the_stages_of_the_cases_decided_in_the_period() -> None:
    figures = capacity(HISTORY, {}, START, END, 33684)

    assert (figures.cases_timed, figures.cases_not_timed) == (1, 1)
    assert figures.stage_days["drafting"] == {
        "cases": 1, "median days": 15, "mean days": 15, "share of the time": 15 / 42.5,
    }  # fmt: skip
    two = stage_figures([{"drafting": 10, "at court": 10}, {"drafting": 20}])
    assert two["drafting"]["median days"] == 15 and two["drafting"]["share of the time"] == 0.75
    assert list(two) == ["drafting", "at court"]


def test_caseload_queue_and_arrivals_at_each_months_end() -> None:
    figures = capacity(HISTORY, {"2021-01": 3}, START, END, 33684)

    assert figures.caseload == {
        "2021-01": {"caseworker:cw-1": 2, "caseworker:cw-2": 0},
        "2021-02": {"caseworker:cw-1": 1, "caseworker:cw-2": 1},
        "2021-03": {"caseworker:cw-1": 0, "caseworker:cw-2": 1},
    }
    assert [row["waiting"] for row in figures.queue.values()] == [0, 0, 1]
    assert figures.queue["2021-03"]["oldest age days"] == 12
    assert figures.arrivals == {
        "2021-01": {"district": 2, "proactive scan": 0},
        "2021-02": {"district": 0, "proactive scan": 1},
        "2021-03": {"district": 1, "proactive scan": 0},
    }
    assert figures.candidates == {"2021-01": 3}


def test_orders_per_caseworker_year_and_the_staff_cost_of_each_order() -> None:
    figures = capacity(HISTORY, {}, START, END, 33684)

    # two caseworkers held cases; 90 days of each: 2 x 90 / 365.25 caseworker-years
    assert figures.caseworkers == 2 and figures.full_orders == 2
    assert figures.caseworker_years == pytest.approx(180 / 365.25)
    assert figures.orders_per_caseworker_year == pytest.approx(2 / (180 / 365.25))
    assert figures.cost_per_order == pytest.approx(33684 * 90 / 365.25)
    three = capacity(HISTORY, {}, START, END, 30000, caseworkers=3)
    assert three.cost_per_order == pytest.approx(30000 * 3 * 90 / 365.25 / 2)


def test_a_period_with_no_orders_has_no_cost_per_order() -> None:
    figures = capacity([], {}, START, END, 33684, caseworkers=2)

    assert figures.cost_per_order is None and figures.stage_days == {}
    assert figures.staff_cost == pytest.approx(2 * 33684 * 90 / 365.25)
