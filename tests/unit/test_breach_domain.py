from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from schemas.trace import Trace
from services.breach.domain import (
    Breach,
    BreachAlreadyConcluded,
    BreachOutcome,
    DismissalReasonRequired,
    KnownOrder,
    OrderNotLive,
    PossibleBreach,
    PossibleBreachSettled,
    PossibleBreachStatus,
    SentenceOnlyOnConviction,
    SentenceRequiredOnConviction,
    SubjectBreaches,
    Term,
)

OFFICER = Trace("mosovo:officer-1", uuid4())


def known_order(ends_on: date | None = date(2028, 6, 1)) -> KnownOrder:
    order = KnownOrder(
        reference="ORD-2026-AAAA0001",
        order_id=uuid4(),
        order_type="SRO",
        subject_nominal_id="SYN1",
        district="north",
        starts_on=date(2026, 6, 1),
        ends_on=ends_on,
        terms=[Term("prohibition", "Not to enter Synthetic Park.", None)],
        trace=OFFICER,
    )
    order.allocate("mosovo-north", OFFICER)
    return order


def report(order: KnownOrder, history: SubjectBreaches, reference: str, day: date) -> Breach:
    return Breach.report(
        order,
        history,
        district="north",
        report_reference=reference,
        occurred_at=datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
        location="Synthetic Park",
        condition_breached="Not to have unsupervised contact with any child under 16.",
        how_detected="home visit",
        reporting_officer="DC 2 (synthetic)",
        trace=OFFICER,
    )


def test_a_subjects_second_breach_is_flagged_as_a_repeat_with_its_count() -> None:
    order = known_order()
    history = SubjectBreaches(subject_nominal_id="SYN1")

    first = report(order, history, "BR-1", date(2026, 7, 1))
    second = report(order, history, "BR-2", date(2026, 8, 1))

    assert (first.breach_number, first.repeat) == (1, False)
    assert (second.breach_number, second.repeat) == (2, True)
    assert second.team == "mosovo-north"
    assert history.count == 2


def test_a_breach_after_the_order_ended_is_refused_with_the_reason() -> None:
    order = known_order(ends_on=date(2026, 12, 31))

    with pytest.raises(OrderNotLive, match="ORD-2026-AAAA0001 was not in force on 2027-01-05"):
        report(order, SubjectBreaches(subject_nominal_id="SYN1"), "BR-3", date(2027, 1, 5))


def test_an_order_until_further_order_never_lapses() -> None:
    order = known_order(ends_on=None)

    assert order.in_force_on(date(2090, 1, 1))
    assert not order.in_force_on(date(2026, 5, 31))


def test_a_charged_breach_goes_on_to_a_conviction_with_its_sentence() -> None:
    breach = report(
        known_order(), SubjectBreaches(subject_nominal_id="SYN1"), "BR-4", date(2026, 7, 1)
    )
    at = datetime(2026, 9, 1, tzinfo=UTC)

    breach.record_outcome(BreachOutcome.CHARGED, None, at, OFFICER)
    breach.record_outcome(BreachOutcome.CONVICTED, "12 weeks' imprisonment", at, OFFICER)

    [_, charged, convicted] = breach.collect_events()
    assert isinstance(charged, Breach.OutcomeRecorded)
    assert (breach.outcome, breach.sentence) == (BreachOutcome.CONVICTED, "12 weeks' imprisonment")


def test_a_conviction_without_a_sentence_or_a_sentence_without_one_is_refused() -> None:
    breach = report(
        known_order(), SubjectBreaches(subject_nominal_id="SYN1"), "BR-5", date(2026, 7, 1)
    )
    at = datetime(2026, 9, 1, tzinfo=UTC)

    with pytest.raises(SentenceRequiredOnConviction):
        breach.record_outcome(BreachOutcome.CONVICTED, None, at, OFFICER)
    with pytest.raises(SentenceOnlyOnConviction):
        breach.record_outcome(BreachOutcome.ACQUITTED, "a fine", at, OFFICER)


def test_a_concluded_breach_takes_no_further_outcome() -> None:
    breach = report(
        known_order(), SubjectBreaches(subject_nominal_id="SYN1"), "BR-6", date(2026, 7, 1)
    )
    at = datetime(2026, 9, 1, tzinfo=UTC)
    breach.record_outcome(BreachOutcome.NO_FURTHER_ACTION, None, at, OFFICER)

    with pytest.raises(BreachAlreadyConcluded, match="no further action"):
        breach.record_outcome(BreachOutcome.CHARGED, None, at, OFFICER)


def test_a_notification_not_made_is_a_possible_breach_until_the_team_confirms_or_dismisses_it() -> (
    None
):
    order = known_order()
    confirmed = PossibleBreach.notification_overdue(order, date(2026, 6, 4), OFFICER)
    dismissed = PossibleBreach.notification_overdue(order, date(2026, 6, 4), OFFICER)
    breach = report(order, SubjectBreaches(subject_nominal_id="SYN1"), "NB-1", date(2026, 6, 5))

    confirmed.confirm(breach, OFFICER)
    with pytest.raises(DismissalReasonRequired):
        dismissed.dismiss("  ", OFFICER)
    dismissed.dismiss("notified in time at Eastbury station; record found", OFFICER)

    assert confirmed.id == dismissed.id  # one possible breach per order and condition
    assert confirmed.team == "mosovo-north" and confirmed.arose_on == date(2026, 6, 5)
    assert "by 2026-06-04 (SOA 2003 s.122F)" in confirmed.condition
    assert confirmed.status is PossibleBreachStatus.CONFIRMED
    assert confirmed.breach_id == breach.id
    assert dismissed.status is PossibleBreachStatus.DISMISSED
    with pytest.raises(PossibleBreachSettled):
        dismissed.confirm(breach, OFFICER)
