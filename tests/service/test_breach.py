"""The breach service's service layer: its own view of orders from the application service's
events, breaches recorded against live orders and counted against their subject, their
outcomes, and possible breaches confirmed or dismissed."""

from datetime import timedelta
from uuid import uuid4

import pytest

from civil_orders.drills.synthetic import Synthetic
from schemas.application import (
    NotificationKind,
    OrderNotificationRecorded,
    OrderNotificationRecordedV1,
)
from schemas.breach import BreachOutcomeRecordedV1, BreachRecordedV1
from schemas.common import Term
from schemas.district import DistrictBreachReportV1
from schemas.personal import is_sealed
from schemas.refusals import NotFound
from schemas.trace import Trace
from services.breach.application import BreachService, UnknownOrder
from services.breach.domain import (
    BreachAlreadyConcluded,
    BreachOutcome,
    DismissalReasonRequired,
    KnownOrder,
    OrderNotLive,
    PossibleBreach,
    PossibleBreachSettled,
    SentenceRequiredOnConviction,
)
from services.referral.application import ReferralService
from tests.service.conftest import Clock
from tests.service.published import (
    aggregates_with,
    consume,
    kinds,
    messages,
    payloads,
    published,
    stored,
    unchanged,
)
from tests.service.upstream import (
    NO_CONTACT,
    again,
    notification_overdue,
    order_allocated,
    order_expired,
    order_granted,
    order_id,
    order_reallocated,
    order_renewed,
    order_varied,
    sent,
)

REFERENCE = "ORD-2026-TIER01"
OFFICER = Trace("mosovo:mo-1", uuid4())
DPO = Trace("manager:mgr-1", uuid4())
NO_INTERNET = Term(kind="prohibition", wording="Not to use any device that can reach the internet.")


@pytest.fixture
def known(breach: BreachService, clock: Clock) -> BreachService:
    """The breach service, told of an SRO granted ten days ago and allocated to the north
    team."""
    granted = order_granted(REFERENCE, starts_on=clock.today() - timedelta(days=10))
    assert consume(breach, breach.when_order_granted_register_it, granted) == []
    assert consume(breach, breach.when_order_allocated_note_team, order_allocated()) == []
    return breach


def reported(
    breach: BreachService, hours_ago: float = 2, reference: str = REFERENCE
) -> DistrictBreachReportV1:
    report = Synthetic().breach("north", reference)
    payload = report.payload.model_copy(
        update={"occurred_at": report.occurred_at - timedelta(hours=hours_ago)}
    )
    return report.model_copy(update={"payload": payload})


def test_an_order_granted_is_known_to_the_breach_service_once(breach: BreachService) -> None:
    granted = order_granted(REFERENCE)

    assert consume(breach, breach.when_order_granted_register_it, granted) == []
    before = unchanged(breach)
    assert consume(breach, breach.when_order_granted_register_it, again(granted)) == []

    assert unchanged(breach) == before
    assert breach.get_known_order(REFERENCE) == {
        "reference": REFERENCE,
        "team": None,
        "starts_on": granted.payload.starts_on.isoformat(),
        "ends_on": granted.payload.ends_on.isoformat() if granted.payload.ends_on else None,
        "terms": [{"kind": "prohibition", "wording": NO_CONTACT.wording, "until": None}],
    }
    [registered] = stored(breach, KnownOrder.create_id(REFERENCE))
    assert registered.subject_nominal_id == "SYN-TIER-0001"  # opened, as the service reads it


def test_an_order_allocated_or_reallocated_is_noted_with_its_team(known: BreachService) -> None:
    assert known.get_known_order(REFERENCE)["team"] == "mosovo-north"

    moved = order_reallocated(REFERENCE, to="mosovo-east")
    assert consume(known, known.when_order_reallocated_note_team, moved) == []
    before = unchanged(known)
    assert consume(known, known.when_order_reallocated_note_team, again(moved)) == []

    assert known.get_known_order(REFERENCE)["team"] == "mosovo-east"
    assert unchanged(known) == before


def test_news_of_an_order_the_service_does_not_know_is_refused_for_the_dead_letters(
    breach: BreachService,
) -> None:
    refusals = consume(breach, breach.when_order_allocated_note_team, order_allocated("ORD-X"))

    assert refusals == ["no order with reference 'ORD-X' is known to the breach service"]
    assert messages(breach) == [] and unchanged(breach) == (0, 0, 0)


def test_a_variation_replaces_the_terms_and_end_a_breach_is_checked_against(
    known: BreachService, clock: Clock
) -> None:
    ends_on = clock.today() + timedelta(days=3 * 365)

    varied = order_varied(REFERENCE, terms=[NO_CONTACT, NO_INTERNET], ends_on=ends_on)
    assert consume(known, known.when_order_varied_note_terms, varied) == []
    before = unchanged(known)
    assert consume(known, known.when_order_varied_note_terms, again(varied)) == []

    order = known.get_known_order(REFERENCE)
    assert [t["wording"] for t in order["terms"]] == [NO_CONTACT.wording, NO_INTERNET.wording]
    assert order["ends_on"] == ends_on.isoformat() and unchanged(known) == before


def test_a_batch_holding_a_variation_taken_before_applies_only_what_is_new(
    known: BreachService, clock: Clock
) -> None:
    """As after the service stopped between applying a batch and recording that it took it:
    the batch comes again with more behind it, and the variation is not applied twice."""
    first = order_varied(REFERENCE, terms=[NO_CONTACT, NO_INTERNET])
    assert consume(known, known.when_order_varied_note_terms, first) == []
    log_before = unchanged(known)[0]

    ends_on = clock.today() + timedelta(days=2 * 365)
    second = order_varied(REFERENCE, terms=[NO_CONTACT], ends_on=ends_on)
    assert consume(known, known.when_order_varied_note_terms, again(first), second) == []

    order = known.get_known_order(REFERENCE)
    assert [t["wording"] for t in order["terms"]] == [NO_CONTACT.wording]
    assert order["ends_on"] == ends_on.isoformat()
    assert unchanged(known)[0] == log_before + 1


def test_a_renewal_moves_the_end_and_keeps_the_terms(known: BreachService, clock: Clock) -> None:
    ends_on = clock.today() + timedelta(days=7 * 365)

    renewed = order_renewed(REFERENCE, ends_on=ends_on)
    assert consume(known, known.when_order_renewed_note_its_end, renewed) == []
    before = unchanged(known)
    known.when_order_renewed_note_its_end(again(renewed))

    order = known.get_known_order(REFERENCE)
    assert order["ends_on"] == ends_on.isoformat() and len(order["terms"]) == 1
    assert unchanged(known) == before


@pytest.mark.parametrize("ended_days_ago", [1, 0])  # over from its end date, that day too
def test_a_breach_of_an_order_after_it_ended_is_refused(
    known: BreachService, clock: Clock, ended_days_ago: int
) -> None:
    ended = order_expired(REFERENCE, ended_on=clock.today() - timedelta(days=ended_days_ago))
    assert consume(known, known.when_order_expired_note_its_end, ended) == []
    before = unchanged(known)
    assert consume(known, known.when_order_expired_note_its_end, again(ended)) == []

    with pytest.raises(OrderNotLive, match=f"order {REFERENCE} was not in force on"):
        known.record_breach(reported(known, hours_ago=0).payload, OFFICER)
    assert unchanged(known) == before


def test_a_breach_reported_by_a_district_is_recorded_once_and_published_sealed(
    known: BreachService,
) -> None:
    report = reported(known)

    assert consume(known, known.when_district_breach_reported_record_it, report) == []
    assert consume(known, known.when_district_breach_reported_record_it, again(report)) == []
    breach_id = known.when_district_breach_reported_record_it(again(report))  # sent again

    [recorded] = published(known, BreachRecordedV1)
    [raw] = payloads(known, BreachRecordedV1)
    assert recorded.aggregate_id == breach_id and recorded.actor == report.actor
    assert (recorded.payload.order_reference, recorded.payload.team) == (REFERENCE, "mosovo-north")
    assert recorded.payload.condition_breached == report.payload.condition_breached
    assert is_sealed(raw["condition_breached"]) and not recorded.payload.repeat
    assert messages(known)[0].topic == "breach.breaches.v1"
    assert known.get_breach(breach_id)["breach_number"] == 1


def test_another_report_under_a_report_reference_taken_is_refused_not_taken_for_a_copy(
    known: BreachService,
) -> None:
    other = order_granted("ORD-2026-TIER02", nominal="SYN-TIER-0001")
    assert consume(known, known.when_order_granted_register_it, other) == []
    first = reported(known)
    assert consume(known, known.when_district_breach_reported_record_it, first) == []
    # the district's system reports a breach of the other order under the same reference
    payload = first.payload.model_copy(update={"order_reference": "ORD-2026-TIER02"})
    clash = first.model_copy(update={"event_id": uuid4(), "payload": payload})

    [why] = consume(known, known.when_district_breach_reported_record_it, clash)

    assert f"report {first.payload.report_reference} is a breach of order {REFERENCE}" in why
    assert [b.payload.order_reference for b in published(known, BreachRecordedV1)] == [REFERENCE]


def test_the_subjects_second_breach_is_a_repeat_on_any_of_their_orders(
    known: BreachService,
) -> None:
    other = order_granted("ORD-2026-TIER02", nominal="SYN-TIER-0001")
    assert consume(known, known.when_order_granted_register_it, other) == []

    first = known.record_breach(reported(known).payload, OFFICER)
    second_report = Synthetic().breach("north", "ORD-2026-TIER02")
    second = known.record_breach(second_report.payload, OFFICER)

    assert known.get_breach(first)["repeat"] is False
    assert known.get_breach(second) | {"id": None, "occurred_at": None} == {
        "id": None,
        "order_reference": "ORD-2026-TIER02",
        "team": None,
        "occurred_at": None,
        "breach_number": 2,
        "repeat": True,
        "outcome": None,
        "sentence": None,
    }
    assert [e.payload.breach_number for e in published(known, BreachRecordedV1)] == [1, 2]


def test_a_person_erased_and_ordered_again_has_their_breaches_counted_afresh(
    breach: BreachService, referral: ReferralService, clock: Clock
) -> None:
    nominal, first, second = "SYN-TIER-0001", "ORD-2026-OLD001", "ORD-2026-NEW001"
    granted = order_granted(first, nominal, starts_on=clock.today() - timedelta(days=400))
    assert consume(breach, breach.when_order_granted_register_it, granted) == []
    breach.record_breach(reported(breach, reference=first).payload, OFFICER)
    assert (
        consume(breach, breach.when_order_expired_note_its_end, order_expired(first, nominal)) == []
    )
    referral.erase_subject(nominal, "disposal under MoPI review (synthetic)", DPO)
    # years later: referred again, and a new order made against them
    regranted = order_granted(second, nominal, starts_on=clock.today() - timedelta(days=5))
    assert consume(breach, breach.when_order_granted_register_it, regranted) == []

    report = reported(breach, reference=second)

    assert consume(breach, breach.when_district_breach_reported_record_it, report) == []
    [_, recorded] = published(breach, BreachRecordedV1)
    assert (recorded.payload.order_reference, recorded.payload.breach_number) == (second, 1)


def test_a_breach_of_an_order_nobody_told_the_service_of_is_refused_naming_it(
    breach: BreachService,
) -> None:
    with pytest.raises(UnknownOrder, match="no order with reference 'ORD-2026-TIER01'"):
        breach.record_breach(reported(breach).payload, OFFICER)
    with pytest.raises(NotFound, match="no breach"):
        breach.get_breach(uuid4())


def test_a_breach_goes_on_from_charged_to_its_verdict_and_then_no_further(
    known: BreachService,
) -> None:
    breach_id = known.record_breach(reported(known).payload, OFFICER)

    known.record_breach_outcome(breach_id, BreachOutcome.CHARGED, None, OFFICER)
    with pytest.raises(SentenceRequiredOnConviction):
        known.record_breach_outcome(breach_id, BreachOutcome.CONVICTED, None, OFFICER)
    known.record_breach_outcome(breach_id, BreachOutcome.CONVICTED, "12 weeks' custody", OFFICER)
    with pytest.raises(BreachAlreadyConcluded, match="already has its outcome: convicted"):
        known.record_breach_outcome(breach_id, BreachOutcome.ACQUITTED, None, OFFICER)

    charged, convicted = published(known, BreachOutcomeRecordedV1)
    assert (charged.payload.outcome, convicted.payload.outcome) == ("charged", "convicted")
    assert convicted.payload.sentence == "12 weeks' custody"
    assert is_sealed(payloads(known, BreachOutcomeRecordedV1)[1]["sentence"])
    assert known.get_breach(breach_id)["outcome"] == "convicted"
    assert kinds(stored(known, breach_id)) == [
        "Breach.Recorded", "Breach.OutcomeRecorded", "Breach.OutcomeRecorded",
    ]  # fmt: skip


def test_an_overdue_notification_is_held_once_as_a_possible_breach(
    known: BreachService, clock: Clock
) -> None:
    due_on = clock.today() - timedelta(days=2)
    overdue = notification_overdue(REFERENCE, due_on=due_on)
    policy = known.when_notification_overdue_raise_possible_breach

    assert consume(known, policy, overdue) == []
    before = unchanged(known)
    assert consume(known, policy, again(overdue)) == []
    policy(notification_overdue(REFERENCE, due_on=due_on))  # raised again: still one

    [possible_id] = aggregates_with(known, PossibleBreach.Raised)
    assert known.get_possible_breach(possible_id) == {
        "id": str(possible_id),
        "order_reference": REFERENCE,
        "team": "mosovo-north",
        "condition": f"failure to notify name and home address by {due_on} (SOA 2003 s.122F)",
        "arose_on": (due_on + timedelta(days=1)).isoformat(),
        "status": "to confirm or dismiss",
        "breach_id": None,
        "dismissal_reason": None,
    }
    assert unchanged(known) == before and messages(known, BreachRecordedV1) == []


def test_a_change_of_address_notified_late_is_held_once_as_a_possible_breach(
    known: BreachService, clock: Clock
) -> None:
    def recorded(kind: NotificationKind, late: bool) -> OrderNotificationRecordedV1:
        made = OrderNotificationRecorded(order_reference=REFERENCE, team="mosovo-north",
                                         kind=kind, notified_on=clock.today(),
                                         how_received="front desk", late=late)  # fmt: skip
        return sent(OrderNotificationRecordedV1, made, "application", order_id(REFERENCE), 4)

    policy = known.when_change_notified_late_raise_possible_breach
    in_time, initial = NotificationKind.CHANGE_OF_ADDRESS, NotificationKind.INITIAL
    for kind, late in ((in_time, False), (initial, True)):  # a late first one: raised overdue
        assert consume(known, policy, recorded(kind, late)) == []
    moved_late = recorded(NotificationKind.CHANGE_OF_ADDRESS, True)
    assert consume(known, policy, moved_late) == []
    assert consume(known, policy, again(moved_late)) == []

    [possible_id] = aggregates_with(known, PossibleBreach.Raised)
    held = known.get_possible_breach(possible_id)
    assert (held["condition"], held["arose_on"], held["team"]) == (
        f"change of address notified late, on {clock.today()} (SOA 2003 s.122F)",
        clock.today().isoformat(), "mosovo-north",
    )  # fmt: skip


def possible_breach(known: BreachService, clock: Clock) -> PossibleBreach:
    overdue = notification_overdue(REFERENCE, due_on=clock.today() - timedelta(days=2))
    assert consume(known, known.when_notification_overdue_raise_possible_breach, overdue) == []
    [possible_id] = aggregates_with(known, PossibleBreach.Raised)
    possible: PossibleBreach = known.repository.get(possible_id)
    return possible


def test_a_possible_breach_goes_with_its_order_to_the_team_managing_it_now(
    known: BreachService, clock: Clock
) -> None:
    possible = possible_breach(known, clock)

    moved = order_reallocated(REFERENCE, "mosovo-east")
    assert consume(known, known.when_order_reallocated_note_team, moved) == []

    assert known.get_possible_breach(possible.id)["team"] == "mosovo-east"


def test_a_breach_goes_with_its_order_to_the_team_managing_it_now(known: BreachService) -> None:
    breach_id = known.record_breach(reported(known).payload, OFFICER)

    moved = order_reallocated(REFERENCE, "mosovo-east")
    assert consume(known, known.when_order_reallocated_note_team, moved) == []

    assert known.get_breach(breach_id)["team"] == "mosovo-east"


def test_a_possible_breach_confirmed_is_recorded_as_a_breach_and_settled(
    known: BreachService, clock: Clock
) -> None:
    possible = possible_breach(known, clock)

    breach_id = known.confirm_possible_breach(possible.id, OFFICER)

    [recorded] = published(known, BreachRecordedV1)
    assert recorded.aggregate_id == breach_id and recorded.actor == "mosovo:mo-1"
    assert recorded.payload.report_reference == f"POSSIBLE-{possible.id}"
    assert recorded.payload.condition_breached == possible.condition
    assert known.get_possible_breach(possible.id)["breach_id"] == str(breach_id)
    with pytest.raises(PossibleBreachSettled, match="already confirmed"):
        known.dismiss_possible_breach(possible.id, "too late", OFFICER)


def test_a_possible_breach_is_dismissed_only_with_the_reason(
    known: BreachService, clock: Clock
) -> None:
    possible = possible_breach(known, clock)

    with pytest.raises(DismissalReasonRequired, match="needs the reason"):
        known.dismiss_possible_breach(possible.id, " ", OFFICER)
    known.dismiss_possible_breach(possible.id, "notified in time at another station", OFFICER)

    dismissed = known.get_possible_breach(possible.id)
    assert (dismissed["status"], dismissed["dismissal_reason"]) == (
        "dismissed",
        "notified in time at another station",
    )
    with pytest.raises(PossibleBreachSettled, match="already dismissed"):
        known.confirm_possible_breach(possible.id, OFFICER)
    assert messages(known, BreachRecordedV1) == []
