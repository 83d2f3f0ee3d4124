"""Disposals around orders, checked against a hand-computed history: each person's first full
order made in the period, the disposals naming them in the days from it (to its end or the
period's) and in as many days before it, per person-year by order type; and the read model
keeping no more of a disposal than whom (by key id), when and how."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from schemas.personal import SEAL
from schemas.referral import (
    DisposalScreened,
    DisposalScreenedV1,
    ScreeningCoverage,
    ScreeningCoverageV1,
)
from schemas.topics import topic_of
from schemas.trace import Trace
from services.readmodels.disposals import (
    ALL,
    FirstOrder,
    covered,
    disposals_around,
    first_orders,
    follow,
    screened,
)
from services.referral.domain import ScreenedDisposal, SuspectDisposals
from services.referral.domain import ScreeningCoverage as Coverage
from services.referral.wire import coverage as coverage_on_the_wire
from services.referral.wire import disposal_screened
from tests.unit.test_personal_data import personal

START, END = date(2021, 1, 1), date(2021, 12, 31)
YEAR = 365.25

# A: discharged on 1 September: 184 days after, so from 29 August 2020 before
A = FirstOrder("A", "SRO", date(2021, 3, 1), date(2021, 9, 1))
# B: still in force at the period's end: 61 days after, from 1 September before
B = FirstOrder("B", "SRO", date(2021, 11, 1), None)
# C: an SHPO ending after the period: 214 days after
C = FirstOrder("C", "SHPO", date(2021, 6, 1), date(2026, 6, 1))
# F: two orders in the period, the first replaced by the second: the first is followed, 59 days
F = FirstOrder("F", "SRO", date(2021, 2, 1), date(2021, 4, 1))
F_AGAIN = FirstOrder("F", "SRO", date(2021, 4, 1), None)
# D's first full order was before the period, E's after it: neither is followed
D_FIRST = FirstOrder("D", "SRO", date(2020, 5, 1), date(2021, 3, 1))
D_AGAIN = FirstOrder("D", "SRO", date(2021, 3, 1), None)
E = FirstOrder("E", "SRO", date(2022, 2, 1), None)

DISPOSALS = [
    ("A", date(2020, 8, 28)),  # a day before the window before: not counted
    ("A", date(2020, 8, 29)),  # its first day: before
    ("A", date(2021, 2, 28)),  # the day before the order: before
    ("A", date(2021, 3, 1)),  # the order's day: after
    ("A", date(2021, 8, 31)),  # its last day in force: after
    ("A", date(2021, 9, 1)),  # the order was over: not counted
    ("B", date(2021, 10, 15)),  # before
    ("B", date(2022, 1, 5)),  # after the period: not counted
    ("F", date(2021, 1, 15)),  # before
    ("F", date(2021, 5, 1)),  # under the second order, after the first was over: not counted
    ("D", date(2021, 5, 1)),
    ("E", date(2021, 5, 1)),
    ("nobody under an order", date(2021, 5, 1)),
]
ORDERS = [A, B, C, F, F_AGAIN, D_FIRST, D_AGAIN, E]


def test_each_person_is_followed_from_their_first_full_order() -> None:
    assert first_orders(ORDERS) == [D_FIRST, F, A, C, B, E]


def test_the_window_before_is_as_long_as_the_time_followed_after() -> None:
    a = follow(A, [d for who, d in DISPOSALS if who == "A"], END)
    b = follow(B, [d for who, d in DISPOSALS if who == "B"], END)

    assert a is not None and (a.days, a.before_from, a.before, a.after) == (
        184, date(2020, 8, 29), 2, 2,
    )  # fmt: skip
    assert b is not None and (b.days, b.before_from, b.before, b.after) == (
        61, date(2021, 9, 1), 1, 0,
    )  # fmt: skip


def test_an_order_ended_the_day_it_was_made_is_not_followed() -> None:
    assert follow(FirstOrder("G", "SRO", END, END), [END], END) is None


def test_disposals_per_person_year_before_and_after_by_order_type() -> None:
    found = disposals_around(ORDERS, DISPOSALS, START, END, date(2020, 9, 1))

    sro, shpo, everyone = found.figures["SRO"], found.figures["SHPO"], found.figures[ALL]
    # A, B and F: 184 + 61 + 59 days each side; 4 disposals before, 2 after
    assert sro == {
        "people followed": 3,
        "person-years in each window": pytest.approx(304 / YEAR),
        "disposals before": 4,
        "disposals after": 2,
        "disposals per person-year before": pytest.approx(4 / (304 / YEAR)),
        "disposals per person-year after": pytest.approx(2 / (304 / YEAR)),
        "people with a disposal before": 3,
        "people with a disposal after": 1,
    }
    assert (shpo["people followed"], shpo["disposals before"], shpo["disposals after"]) == (1, 0, 0)
    assert shpo["person-years in each window"] == pytest.approx(214 / YEAR)
    assert everyone["person-years in each window"] == pytest.approx(518 / YEAR)
    assert everyone["disposals per person-year after"] == pytest.approx(2 / (518 / YEAR))
    # only A's window before (from 29 August 2020) starts before the first disposal on record
    assert (found.first_on_record, found.before_the_record) == (date(2020, 9, 1), 1)


def test_with_no_disposal_on_record_every_window_before_is_unrecorded() -> None:
    found = disposals_around([A, C], [], START, END, None)

    assert found.figures[ALL]["disposals per person-year before"] == 0
    assert found.before_the_record == 2


def test_a_period_with_no_first_order_has_no_figures() -> None:
    found = disposals_around([D_FIRST, E], DISPOSALS, START, END, date(2020, 1, 1))

    assert found.figures == {} and found.before_the_record == 0


def test_the_read_model_keeps_whom_by_key_id_when_and_how_and_nothing_readable() -> None:
    data = personal()
    key_id = data.key_for("SYN-D-1")
    sent = DisposalScreenedV1(
        event_id=uuid4(), occurred_at=datetime(2021, 5, 2, tzinfo=UTC), producer="referral",
        aggregate_id=uuid4(), aggregate_version=1, sequence=7, correlation_id=uuid4(),
        actor="service:referral",
        payload=DisposalScreened(
            suspect_nominal_id="SYN-D-1", outcome_code="15", disposed_on=date(2021, 5, 1)
        ),
    )  # fmt: skip
    raw = sent.model_dump_json(context={SEAL: data.sealer(key_id)}).encode()

    # the read models parse the wire event without opening it
    [write] = screened(topic_of(DisposalScreenedV1).parse(raw))  # type: ignore[arg-type]

    assert b"SYN-D-1" not in raw
    assert write.args == (sent.aggregate_id, str(key_id), date(2021, 5, 1), "15")


def test_a_screened_disposal_goes_on_the_wire_as_whom_when_and_how_under_its_own_id() -> None:
    trace = Trace("service:referral", uuid4())
    given = uuid4()
    disposal = ScreenedDisposal(
        id=given, suspect_nominal_id="SYN-D-1", outcome_code="16",
        disposed_on=date(2021, 5, 1), trace=trace,
    )  # fmt: skip
    [noted] = disposal.collect_events()
    assert isinstance(noted, ScreenedDisposal.Screened)

    kind, payload = disposal_screened(noted, disposal)

    assert disposal.id == given  # given, not derived from the suspect's nominal
    assert kind is DisposalScreenedV1
    assert payload == DisposalScreened(
        suspect_nominal_id="SYN-D-1", outcome_code="16", disposed_on=date(2021, 5, 1)
    )


def test_a_suspects_disposals_are_published_with_their_outcomes_all_or_only_those_named() -> None:
    trace = Trace("service:referral", uuid4())
    history = SuspectDisposals(suspect_nominal_id="SYN-D-2")
    history.note("CR/1", date(2021, 1, 4), "16")
    history.note("CR/2", date(2021, 2, 9), "15")
    history.note("CR/1", date(2021, 1, 4), "16")  # a rescan of the same crime: once

    every = {(d.disposed_on, d.outcome_code) for d in history.screened(trace)}
    [latest] = history.screened(trace, "CR/2")

    assert every == {(date(2021, 1, 4), "16"), (date(2021, 2, 9), "15")}
    assert (latest.suspect_nominal_id, latest.disposed_on, latest.outcome_code) == (
        "SYN-D-2", date(2021, 2, 9), "15",
    )  # fmt: skip
    assert len({d.id for d in history.screened(trace)} | {latest.id}) == 3  # each its own id


def test_disposals_noted_before_outcomes_were_kept_are_not_published_again() -> None:
    history = SuspectDisposals(suspect_nominal_id="SYN-D-3")
    history.note("CR/9", date(2020, 6, 1), "16")
    started, noted = history.collect_events()
    assert isinstance(noted, SuspectDisposals.DisposalNoted)
    old = dict(vars(noted))
    del old["outcome_code"]  # as stored before the outcome was kept
    replayed = SuspectDisposals.DisposalNoted.__new__(SuspectDisposals.DisposalNoted)
    object.__setattr__(replayed, "__dict__", old)

    restored = replayed.mutate(started.mutate(None))
    assert restored is not None

    assert restored.has_seen("CR/9") and restored.earlier_dates() == [date(2020, 6, 1)]
    assert restored.screened(Trace("service:referral", uuid4())) == []


def test_screening_coverage_reaches_back_to_the_earliest_disposal_and_never_forward() -> None:
    trace = Trace("service:referral", uuid4())
    coverage = Coverage(earliest=date(2021, 5, 1), trace=trace)
    coverage.include(date(2021, 6, 1), trace)
    coverage.include(date(2019, 1, 15), trace)
    coverage.include(date(2020, 1, 1), trace)

    kinds = [type(e).__name__ for e in coverage.collect_events()]

    assert coverage.earliest == date(2019, 1, 15)
    assert kinds == ["Began", "ReachedBack"]


def test_coverage_goes_on_the_wire_as_the_earliest_day_and_the_read_model_keeps_the_least() -> None:
    coverage = Coverage(earliest=date(2021, 5, 1), trace=Trace("service:referral", uuid4()))
    [began] = coverage.collect_events()

    kind, payload = coverage_on_the_wire(began, coverage)
    sent = ScreeningCoverageV1(
        event_id=uuid4(), occurred_at=datetime(2021, 5, 2, tzinfo=UTC), producer="referral",
        aggregate_id=coverage.id, aggregate_version=1, sequence=8, correlation_id=uuid4(),
        actor="service:referral", payload=payload,
    )  # fmt: skip
    [write] = covered(sent)

    assert kind is ScreeningCoverageV1
    assert payload == ScreeningCoverage(earliest_disposed_on=date(2021, 5, 1))
    assert "least(" in write.sql and write.args == (date(2021, 5, 1),)
