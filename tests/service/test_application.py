"""The application service's service layer: an application opened from each accepted
referral, built, quality-assured and taken to court; the order a court grants, allocated to
its district's team, with the subject's duty to notify and the national record's tasks; the
order calendar; and applications about an order (to vary, renew or discharge it), which
change it only when granted."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from plumbing.configuration import adopting_team_directories
from schemas.application import (
    Applicant,
    ApplicationOpenedV1,
    ApplicationStageChangedV1,
    ComplaintDeadlineApproachingV1,
    NationalRecordEscalatedV1,
    NationalRecordUpdatedV1,
    NationalRecordUpdateRequestedV1,
    NotificationKind,
    OrderAllocatedV1,
    OrderApplicationKind,
    OrderApplicationOpenedV1,
    OrderApplicationStageChangedV1,
    OrderExpiredV1,
    OrderGrantedV1,
    OrderNotificationOverdueV1,
    OrderNotificationRecordedV1,
    OrderNotificationRequiredV1,
    OrderReallocatedV1,
    OrderRenewalReviewDueV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.breach import BreachOutcome, BreachOutcomeRecorded, BreachOutcomeRecordedV1
from schemas.common import FOREIGN_TRAVEL, OrderSought, OrderType, ReferredSubject
from schemas.dates import months_after
from schemas.personal import is_sealed
from schemas.trace import Trace
from services.application.application import (
    ApplicationNotFound,
    ApplicationService,
    NoTeamForDistrict,
    OrderAlreadyRecorded,
    OrderNotFound,
    UnknownTeam,
)
from services.application.casework import (
    Element,
    EvidenceItem,
    EvidenceKind,
    LegalTest,
    PoliceResponse,
    ProposedTerm,
    RenewalCase,
    TermAction,
    TermChange,
)
from services.application.domain import (
    BREACH_NOTIFICATION,
    SHPO_NOTIFICATION,
    SRO_NOTIFICATION,
    ApplicationAlreadyDecided,
    ApplicationFull,
    ApplicationNotAtStage,
    ChangeDateRequired,
    ComplaintOutOfTime,
    DischargeNeedsPoliceConsent,
    ForeignTravelTooLong,
    InitialNotificationAlreadyRecorded,
    InterimOrderAlreadyMade,
    NationalRecordTaskDone,
    NoSuchNationalRecordTask,
    NotForThisApplication,
    NotificationIncomplete,
    Order,
    OrderAlreadyWithTeam,
    OrderEndsBeforeItIsMade,
    OrderNotInForce,
    OrderOutlastsItsTerms,
    OrderShorterThanTheMinimum,
    ReasonRequired,
    ReceivedDateRequired,
    Term,
    TermChangedSinceOpened,
    TermOutlastsTheOrder,
)
from services.referral.application import ReferralService
from tests.service.conftest import Clock
from tests.service.published import (
    consume,
    messages,
    payloads,
    published,
    recorder,
    unchanged,
)
from tests.service.upstream import (
    again,
    moving,
    packaged,
    person,
    referral_accepted,
    sent,
    subject_rectified,
    team_directory_published,
)

CASEWORKER = Trace("caseworker:cw-1", uuid4())
LEGAL = Trace("legal-services:ls-1", uuid4())
MOSOVO = Trace("mosovo:mo-1", uuid4())
SUBJECT = person(1)
COURT = "Northtown Magistrates' Court"
NO_CONTACT = Term("prohibition", "Not to have unsupervised contact with any child under 16.", None)
NO_INTERNET = Term("prohibition", "Not to use any device that can reach the internet.", None)
NO_SCHOOL = Term("prohibition", "Not to enter the grounds of Northtown Primary School.", None)


def opened(
    application: ApplicationService,
    district: str = "north",
    order_sought: OrderSought = OrderSought.SRO,
    subject: ReferredSubject = SUBJECT,
) -> UUID:
    accepted = referral_accepted(subject, district, order_sought)
    policy = application.when_referral_accepted_open_application
    assert consume(application, policy, accepted) == []
    return application.application_for_referral(accepted.payload.referral_id)


def drafted(
    application: ApplicationService,
    clock: Clock,
    district: str = "north",
    subject: ReferredSubject = SUBJECT,
) -> UUID:
    """An SRO application with everything its checklist asks for."""
    application_id = opened(application, district, subject=subject)
    test = LegalTest(necessity="Repeated approaches to children.",
                     act_of_a_sexual_nature="Exposure near a school, March 2026.")  # fmt: skip
    term = ProposedTerm("prohibition", NO_CONTACT.wording, "The approaches were to children.", None)
    evidence = EvidenceItem(
        EvidenceKind.STATEMENT, "Head teacher's statement", "Northtown Primary",
        clock.today() - timedelta(days=30), (Element.ACT_OF_A_SEXUAL_NATURE, Element.NECESSITY),
    )  # fmt: skip
    application.set_out_legal_test(application_id, test, CASEWORKER)
    application.propose_term(application_id, term, CASEWORKER)
    application.add_evidence(application_id, evidence, CASEWORKER)
    application.propose_duration(
        application_id, clock.today() + timedelta(days=3 * 365), False, CASEWORKER
    )
    return application_id


def test_an_application_holds_at_most_a_hundred_terms_which_its_order_carries_all_of(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = drafted(application, clock)  # one term proposed
    term = ProposedTerm("requirement", "To attend an assessment.", "The risk assessed.", None)
    for _ in range(99):
        application.propose_term(application_id, term, CASEWORKER)

    with pytest.raises(ApplicationFull, match="at most 100 proposed terms"):
        application.propose_term(application_id, term, CASEWORKER)


def at_hearing(
    application: ApplicationService,
    clock: Clock,
    district: str = "north",
    subject: ReferredSubject = SUBJECT,
) -> UUID:
    application_id = drafted(application, clock, district, subject)
    application.submit_for_quality_assurance(application_id, CASEWORKER)
    assert application.complete_quality_assurance(application_id, CASEWORKER) == []
    application.make_application(application_id, COURT, clock.today(), LEGAL)
    application.list_hearing(application_id, clock.today(), LEGAL)
    return application_id


def granted(
    application: ApplicationService,
    clock: Clock,
    ends_in_days: int = 3 * 365,
    made_days_ago: int = 0,
    subject: ReferredSubject = SUBJECT,
) -> UUID:
    """An SRO granted (today, unless recorded late) and allocated to the north team: the
    order's id."""
    application_id = at_hearing(application, clock, subject=subject)
    made_on = clock.today() - timedelta(days=made_days_ago)
    ends_on = clock.today() + timedelta(days=ends_in_days)
    application.grant_order(application_id, COURT, made_on, ends_on, [NO_CONTACT], LEGAL)
    return Order.create_id(application_id)


def notify(application: ApplicationService, order_id: UUID, on: date,
           address: str | None = "1 Synthetic Row") -> None:  # fmt: skip
    """The subject's first notification of their name and home address."""
    application.record_notification(order_id, NotificationKind.INITIAL, on, "front desk",
                                    "Hollis Grisedale", address, None, MOSOVO)  # fmt: skip


def stages(application: ApplicationService) -> list[str]:
    return [e.payload.stage.value for e in published(application, ApplicationStageChangedV1)]


# Applications for an order ------------------------------------------------------------------


def test_an_accepted_referral_opens_one_application_for_the_order_it_sought(
    application: ApplicationService,
) -> None:
    accepted = referral_accepted(SUBJECT, order_sought=OrderSought.UNSURE)
    policy = application.when_referral_accepted_open_application

    assert consume(application, policy, accepted) == []
    before = unchanged(application)
    assert consume(application, policy, again(accepted)) == []
    policy(again(accepted))

    application_id = application.application_for_referral(accepted.payload.referral_id)
    [event] = published(application, ApplicationOpenedV1)
    assert (event.aggregate_id, event.payload.order_type) == (application_id, "SRO")
    assert event.payload.subject_nominal_id == SUBJECT.nominal_id
    assert is_sealed(payloads(application, ApplicationOpenedV1)[0]["subject_nominal_id"])
    assert application.get_application(application_id)["subject"]["name"] == SUBJECT.name
    assert unchanged(application) == before
    with pytest.raises(ApplicationNotFound, match="no application"):
        application.application_for_referral(uuid4())


def test_the_case_is_built_in_drafting_and_kept_sealed_and_off_the_wire(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = drafted(application, clock)

    held = application.get_application(application_id)
    assert held["legal_test"]["act_of_a_sexual_nature"] == "Exposure near a school, March 2026."
    assert [t["wording"] for t in held["terms"]] == [NO_CONTACT.wording]
    assert held["evidence"][0]["source"] == "Northtown Primary"
    assert held["ends_on"] == clock.today() + timedelta(days=3 * 365)
    stored = b"".join(e.state for e in recorder(application).select_events(application_id))
    assert NO_CONTACT.wording.encode() not in stored and b"Northtown Primary" not in stored
    assert [m.event_type for m in messages(application)] == ["ApplicationOpened"]


def test_quality_assurance_sends_an_incomplete_case_back_naming_what_is_missing(
    application: ApplicationService,
) -> None:
    application_id = opened(application)
    application.submit_for_quality_assurance(application_id, CASEWORKER)

    missing = application.complete_quality_assurance(application_id, CASEWORKER)

    assert "the legal test has not been set out" in missing
    assert "the draft order states no duration" in missing
    assert stages(application) == ["quality assurance", "drafting"]
    failed = published(application, ApplicationStageChangedV1)[-1]
    assert failed.payload.reason == "; ".join(missing)
    assert application.get_application(application_id)["quality_assurance_missing"] == missing
    with pytest.raises(ApplicationNotAtStage, match="is at drafting"):
        application.make_application(application_id, COURT, date(2026, 1, 1), LEGAL)


def test_a_complete_case_goes_to_legal_services_who_may_return_it_with_comments(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = drafted(application, clock)
    application.submit_for_quality_assurance(application_id, CASEWORKER)
    assert application.complete_quality_assurance(application_id, CASEWORKER) == []

    application.return_to_drafting(application_id, "Add the school's CCTV log.", LEGAL)

    assert stages(application) == ["quality assurance", "with legal services", "drafting"]
    assert published(application, ApplicationStageChangedV1)[-1].payload.reason == (
        "Add the school's CCTV log."
    )
    assert is_sealed(payloads(application, ApplicationStageChangedV1)[-1]["reason"])
    held = application.get_application(application_id)
    assert held["legal_services_comments"] == ["Add the school's CCTV log."]


def test_quality_assurance_fails_a_legal_test_or_a_term_stated_only_in_spaces(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = drafted(application, clock)
    blank = LegalTest(necessity="   ", act_of_a_sexual_nature=" \n ")
    application.set_out_legal_test(application_id, blank, CASEWORKER)
    term = ProposedTerm("prohibition", "  ", "The approaches were to children.", None)
    application.propose_term(application_id, term, CASEWORKER)
    application.submit_for_quality_assurance(application_id, CASEWORKER)

    missing = application.complete_quality_assurance(application_id, CASEWORKER)

    assert missing == [
        "the legal test does not state the act of a sexual nature",
        "the legal test does not state the necessity",
        "term 2 has no wording",
    ]
    assert application.get_application(application_id)["stage"] == "drafting"


def test_legal_services_take_it_to_court_where_it_is_listed_adjourned_and_refused(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)
    next_week = clock.today() + timedelta(days=7)

    application.adjourn(application_id, next_week, "the defence asked for time", LEGAL)
    with pytest.raises(ReasonRequired, match="a refused application must keep its reason"):
        application.refuse(application_id, next_week, "", LEGAL)
    application.refuse(application_id, next_week, "not satisfied it is necessary", LEGAL)
    with pytest.raises(ApplicationAlreadyDecided):
        application.withdraw(application_id, next_week, "too late", LEGAL)

    assert stages(application)[-4:] == [
        "application made to court", "hearing listed", "hearing listed", "decided",
    ]  # fmt: skip
    adjourned, decided = published(application, ApplicationStageChangedV1)[-2:]
    assert adjourned.payload.reason == f"adjourned to {next_week}: the defence asked for time"
    assert (decided.payload.outcome, decided.payload.decided_on) == ("refused", next_week)
    held = application.get_application(application_id)
    assert (held["outcome"], held["outcome_reason"]) == ("refused", "not satisfied it is necessary")


def test_an_application_is_withdrawn_at_any_stage_before_its_outcome(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = opened(application)

    application.withdraw(application_id, clock.today(), "the subject left the country", CASEWORKER)

    [decided] = published(application, ApplicationStageChangedV1)
    assert (decided.payload.outcome, decided.payload.reason) == (
        "withdrawn", "the subject left the country",
    )  # fmt: skip


def test_a_granted_order_is_allocated_to_its_districts_team_and_published_with_its_duties(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)

    reference = application.grant_order(
        application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL
    )

    [order] = published(application, OrderGrantedV1)
    [raw] = payloads(application, OrderGrantedV1)
    assert (order.payload.order_reference, order.payload.subject_nominal_id) == (
        reference, SUBJECT.nominal_id,
    )  # fmt: skip
    assert is_sealed(raw["subject_nominal_id"]) and is_sealed(raw["terms"][0]["wording"])
    assert order.payload.terms[0].wording == NO_CONTACT.wording and order.payload.ends_on is None
    [allocated] = published(application, OrderAllocatedV1)
    [duty] = published(application, OrderNotificationRequiredV1)
    [task] = published(application, NationalRecordUpdateRequestedV1)
    assert allocated.payload.team == "mosovo-north"
    assert (duty.payload.within_days, duty.payload.due_on) == (3, clock.today() + timedelta(days=3))
    assert (task.payload.change, task.payload.outstanding) == ("made", 1)
    assert stages(application)[-1] == "decided"
    [message] = messages(application, OrderGrantedV1)
    assert message.topic == "application.orders.v1"
    assert message.key == str(order.aggregate_id).encode()
    got = application.get_order(order.aggregate_id)
    assert (got["reference"], got["team"], got["ends_on"]) == (reference, "mosovo-north", None)
    assert got["notification"]["status"] == f"due by {clock.today() + timedelta(days=3)}"
    assert application.get_application(application_id)["order_id"] == str(order.aggregate_id)


def test_an_order_for_a_district_no_team_manages_is_refused_and_nothing_is_granted(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock, district="nowhere")
    before = unchanged(application)

    with pytest.raises(NoTeamForDistrict, match="no MOSOVO team manages orders for district"):
        application.grant_order(application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)

    assert unchanged(application) == before
    assert application.get_application(application_id)["stage"] == "hearing listed"


def test_the_courts_grant_of_an_order_shorter_than_its_statutory_minimum_is_refused(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)
    today = clock.today()
    minimum = months_after(today, 24)
    short_term = Term(NO_CONTACT.kind, NO_CONTACT.wording, today + timedelta(days=30))
    before = unchanged(application)

    with pytest.raises(
        OrderShorterThanTheMinimum, match=f"an SRO lasts at least 2 years, to {minimum}"
    ):
        application.grant_order(
            application_id, COURT, today, today + timedelta(days=30), [NO_CONTACT], LEGAL
        )
    with pytest.raises(
        OrderEndsBeforeItIsMade, match=rf"not after the day the order is made \({today}\)"
    ):
        application.grant_order(
            application_id, COURT, today, today - timedelta(days=400), [NO_CONTACT], LEGAL
        )
    with pytest.raises(OrderShorterThanTheMinimum, match="term 1 ends on"):
        application.grant_order(application_id, COURT, today, None, [short_term], LEGAL)

    assert unchanged(application) == before
    assert application.get_application(application_id)["stage"] == "hearing listed"
    application.grant_order(application_id, COURT, today, minimum, [NO_CONTACT], LEGAL)
    [order] = published(application, OrderGrantedV1)
    assert order.payload.ends_on == minimum


def test_an_interim_order_goes_on_beside_the_application_and_the_full_order_replaces_it(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = drafted(application, clock)
    application.submit_for_quality_assurance(application_id, CASEWORKER)
    application.complete_quality_assurance(application_id, CASEWORKER)
    application.make_application(application_id, COURT, clock.today(), LEGAL)

    interim = application.grant_interim_order(
        application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL
    )
    with pytest.raises(InterimOrderAlreadyMade):
        application.grant_interim_order(application_id, COURT, clock.today(), None, [], LEGAL)
    application.list_hearing(application_id, clock.today(), LEGAL)
    full = application.grant_order(application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)

    first, second = published(application, OrderGrantedV1)
    assert (first.payload.order_reference, first.payload.interim) == (interim, True)
    assert (second.payload.order_reference, second.payload.interim) == (full, False)
    [replaced] = published(application, OrderExpiredV1)
    assert (replaced.payload.order_reference, replaced.payload.reason) == (
        interim, f"replaced by {full}",
    )  # fmt: skip


def test_an_order_ends_when_the_last_of_its_terms_does(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)
    today = clock.today()
    ends_on, later = months_after(today, 36), months_after(today, 48)
    outlasting = Term(NO_CONTACT.kind, NO_CONTACT.wording, later)
    before = unchanged(application)

    with pytest.raises(TermOutlastsTheOrder, match=f"term 1 runs to {later}, after the order"):
        application.grant_order(application_id, COURT, today, ends_on, [outlasting], LEGAL)
    with pytest.raises(OrderOutlastsItsTerms, match=f"its last term ends by {later}"):
        application.grant_order(application_id, COURT, today, None, [outlasting], LEGAL)

    assert unchanged(application) == before
    application.grant_order(application_id, COURT, today, later, [outlasting, NO_INTERNET], LEGAL)
    [order] = published(application, OrderGrantedV1)
    assert order.payload.ends_on == later


def renewed(application: ApplicationService, clock: Clock, order_id: UUID,
            ends_on: date | None) -> None:  # fmt: skip
    """The police's renewal of the order to `ends_on` (None: until further order), granted."""
    renewal = application.open_order_application(
        order_id, OrderApplicationKind.RENEWAL, Applicant.POLICE, "Risk remains.", None, MOSOVO
    )
    case = RenewalCase("Intelligence of contact.", ends_on, ends_on is None)
    application.set_out_renewal_case(renewal, case, MOSOVO)
    assert to_hearing(application, renewal, clock) == []
    application.grant_order_application(renewal, clock.today(), LEGAL)


@pytest.mark.parametrize("renewed_to_months", [None, 30])
def test_a_renewal_leaves_the_order_ending_with_the_last_of_its_terms(
    application: ApplicationService, clock: Clock, renewed_to_months: int | None
) -> None:
    application_id = at_hearing(application, clock)
    today = clock.today()
    # until further order with one term of four years; or three years, its term to its end
    ends_on = None if renewed_to_months else months_after(today, 36)
    until = months_after(today, 48) if renewed_to_months else ends_on
    terms = [*([NO_CONTACT] if renewed_to_months else []), Term("prohibition", "x y z", until)]
    application.grant_order(application_id, COURT, today, ends_on, terms, LEGAL)
    order_id = Order.create_id(application_id)
    new_end = months_after(today, renewed_to_months) if renewed_to_months else None

    with pytest.raises(TermOutlastsTheOrder if renewed_to_months else OrderOutlastsItsTerms):
        renewed(application, clock, order_id, new_end)

    assert application.get_order(order_id)["ends_on"] == (ends_on and ends_on.isoformat())


def test_a_foreign_travel_prohibition_is_for_a_fixed_five_years_at_most_not_the_minimum(
    application: ApplicationService, clock: Clock
) -> None:
    today = clock.today()
    latest = months_after(today, 60)
    travel = "Not to travel to any country outside the United Kingdom."
    draft = drafted(application, clock)
    application.propose_term(
        draft, ProposedTerm(FOREIGN_TRAVEL, travel, "He arranged to meet a child abroad.", None),
        CASEWORKER,
    )  # fmt: skip
    application.submit_for_quality_assurance(draft, CASEWORKER)
    missing = application.complete_quality_assurance(draft, CASEWORKER)
    application_id = at_hearing(application, clock)
    before = unchanged(application)

    for until in (None, latest + timedelta(days=1)):
        terms = [NO_CONTACT, Term(FOREIGN_TRAVEL, travel, until)]
        with pytest.raises(ForeignTravelTooLong, match=f"to {latest} at the latest"):
            application.grant_order(application_id, COURT, today, None, terms, LEGAL)
    assert unchanged(application) == before
    year = today + timedelta(days=365)  # shorter than the SRO's minimum, as it may be
    application.grant_order(
        application_id, COURT, today, None, [NO_CONTACT, Term(FOREIGN_TRAVEL, travel, year)], LEGAL
    )

    assert missing == [f"term 2 is a foreign travel prohibition: for a fixed period of at most "
                       f"5 years at a time, to {latest} at the latest"]  # fmt: skip
    [order] = published(application, OrderGrantedV1)
    assert (order.payload.terms[1].kind, order.payload.terms[1].until) == (FOREIGN_TRAVEL, year)


def test_a_new_full_order_against_the_same_person_replaces_their_order_in_force(
    application: ApplicationService, clock: Clock
) -> None:
    first = granted(application, clock)
    someone_else = granted(application, clock, subject=person(2))
    clock.move_on(days=40)

    second = granted(application, clock)
    third_id = at_hearing(application, clock)
    application.grant_interim_order(third_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)

    replacing = application.get_order(second)["reference"]
    [replaced] = published(application, OrderExpiredV1)
    assert (replaced.aggregate_id, replaced.payload.ended_on, replaced.payload.reason) == (
        first, clock.today(), f"replaced by {replacing}",
    )  # fmt: skip
    assert [application.get_order(o)["expired"] for o in (first, someone_else, second)] == [
        True, False, False,
    ]  # fmt: skip
    held = application.get_order(first)
    assert (held["ends_on"], held["national_record"][-1]["change"]) == (
        clock.today().isoformat(), "ended",
    )  # fmt: skip


CROWN_COURT, CASE = "Northtown Crown Court", "T20267001"


def test_an_shpo_made_on_conviction_is_held_and_allocated_and_replaces_the_persons_order(
    application: ApplicationService, clock: Clock
) -> None:
    earlier = granted(application, clock)
    clock.move_on(days=10)
    record = application.record_order_made_on_conviction

    reference = record(SUBJECT.nominal_id, "north", CROWN_COURT, CASE, clock.today(), None,
                       [NO_INTERNET], CASEWORKER)  # fmt: skip

    _, made = published(application, OrderGrantedV1)
    _, raw = payloads(application, OrderGrantedV1)
    assert (made.payload.order_reference, made.payload.order_type, made.payload.interim) == (
        reference, OrderType.SHPO, False,
    )  # fmt: skip
    assert (made.payload.application_id, made.payload.case_number) == (None, CASE)
    assert is_sealed(raw["case_number"]) and is_sealed(raw["subject_nominal_id"])
    _, allocated = published(application, OrderAllocatedV1)
    assert (allocated.payload.order_reference, allocated.payload.team) == (
        reference, "mosovo-north",
    )  # fmt: skip
    [replaced] = published(application, OrderExpiredV1)
    assert (replaced.aggregate_id, replaced.payload.reason) == (earlier, f"replaced by {reference}")
    order = application.get_order(made.aggregate_id)
    assert (order["court"], order["notification"]["requirement"]) == (
        CROWN_COURT, SHPO_NOTIFICATION,
    )  # fmt: skip
    with pytest.raises(OrderAlreadyRecorded, match=f"in case {CASE} is recorded already"):
        record(SUBJECT.nominal_id, "north", CROWN_COURT, CASE, clock.today(), None,
               [NO_INTERNET], CASEWORKER)  # fmt: skip
    four_years = clock.today() + timedelta(days=4 * 365)
    with pytest.raises(OrderShorterThanTheMinimum, match="an SHPO lasts at least 5 years"):
        record(SUBJECT.nominal_id, "north", CROWN_COURT, "T20267002", clock.today(), four_years,
               [NO_INTERNET], CASEWORKER)  # fmt: skip
    with pytest.raises(NoTeamForDistrict):
        record(SUBJECT.nominal_id, "nowhere", CROWN_COURT, "T20267003", clock.today(), None,
               [NO_INTERNET], CASEWORKER)  # fmt: skip


def test_one_court_cases_order_is_recorded_once_however_its_court_and_number_are_typed(
    application: ApplicationService, clock: Clock
) -> None:
    record = application.record_order_made_on_conviction
    made = record(SUBJECT.nominal_id, "north", CROWN_COURT, CASE, clock.today(), None,
                  [NO_INTERNET], CASEWORKER)  # fmt: skip

    for court, case in (("northtown  crown court ", "t2026 7001"), (CROWN_COURT, " T20267001")):
        with pytest.raises(OrderAlreadyRecorded):
            record(SUBJECT.nominal_id, "north", court, case, clock.today(), None,
                   [NO_INTERNET], CASEWORKER)  # fmt: skip
    other = record(person(2).nominal_id, "north", f"{CROWN_COURT}/B", "77", clock.today(), None,
                   [NO_INTERNET], CASEWORKER)  # fmt: skip
    record(person(3).nominal_id, "north", CROWN_COURT, "B/77", clock.today(), None,
           [NO_INTERNET], CASEWORKER)  # fmt: skip (named apart from the one before)
    assert CASE[4:] not in made and other != made  # its reference names nothing of the case


def test_an_order_recorded_late_made_before_the_persons_order_is_itself_replaced_by_it(
    application: ApplicationService, clock: Clock
) -> None:
    current = granted(application, clock, made_days_ago=10)
    made_on = clock.today() - timedelta(days=30)

    late = application.record_order_made_on_conviction(
        SUBJECT.nominal_id, "north", CROWN_COURT, CASE, made_on, None, [NO_INTERNET], CASEWORKER
    )

    [ended] = published(application, OrderExpiredV1)
    assert (ended.payload.order_reference, ended.payload.ended_on, ended.payload.reason) == (
        late, clock.today() - timedelta(days=10),
        f"replaced by {application.get_order(current)['reference']}",
    )  # fmt: skip
    assert application.get_order(current)["expired"] is False


def test_an_order_recorded_late_ends_one_in_force_on_its_day_though_replaced_since(
    application: ApplicationService, clock: Clock
) -> None:
    first = granted(application, clock, made_days_ago=30)
    days_ago = [clock.today() - timedelta(days=days) for days in (10, 20)]
    record = application.record_order_made_on_conviction
    current = record(SUBJECT.nominal_id, "north", CROWN_COURT, CASE, days_ago[0], None,
                     [NO_INTERNET], CASEWORKER)  # fmt: skip (replacing the first ten days ago)

    late = record(SUBJECT.nominal_id, "north", CROWN_COURT, "T20267002", days_ago[1], None,
                  [NO_INTERNET], CASEWORKER)  # fmt: skip

    ended = {(e.payload.order_reference, e.payload.ended_on, e.payload.reason)
             for e in published(application, OrderExpiredV1)}  # fmt: skip
    first_reference = application.get_order(first)["reference"]
    assert {(first_reference, days_ago[1], f"replaced by {late}"),
            (late, days_ago[0], f"replaced by {current}")} <= ended  # fmt: skip
    assert application.get_order(first)["ends_on"] == days_ago[1].isoformat()


def test_a_person_erased_once_their_order_ended_may_have_an_order_made_against_them_again(
    application: ApplicationService, referral: ReferralService, clock: Clock
) -> None:
    ended = granted(application, clock, ends_in_days=-5, made_days_ago=3 * 365 + 5)
    referral.erase_subject(SUBJECT.nominal_id, "MoPI review: no longer a risk", MOSOVO)
    assert application.get_order(ended)["reference"]  # held still, its nominal erased

    again = granted(application, clock)

    assert application.get_order(again)["expired"] is False


def test_an_order_stored_before_orders_were_made_on_conviction_reads_as_made_on_its_application(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    application.take_snapshot(order_id)
    assert application.snapshots is not None
    for table in (application.recorder, application.snapshots.recorder):  # as stored before
        table._stored_events = [  # type: ignore[attr-defined]
            replace(stored, state=stored.state.replace(b'"case_number":null,', b"")
                    .replace(b',"class_version":2', b""))
            for stored in table._stored_events  # type: ignore[attr-defined]
        ]  # fmt: skip
    stored = application.recorder.select_events(order_id)
    assert b"case_number" not in stored[0].state and len(stored) > 1
    application.recent.clear()

    order = application.get_order(order_id)

    assert order["case_number"] is None and order["application_id"] is not None
    assert order["terms"][0]["wording"] == NO_CONTACT.wording


@pytest.mark.parametrize("outcome", ["refused", "withdrawn"])
def test_an_interim_order_ends_when_the_main_application_is_refused_or_withdrawn(
    application: ApplicationService, clock: Clock, outcome: str
) -> None:
    application_id = at_hearing(application, clock)
    interim = application.grant_interim_order(
        application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL
    )
    clock.move_on(days=20)

    decide = application.refuse if outcome == "refused" else application.withdraw
    decide(application_id, clock.today(), "not satisfied it is necessary", LEGAL)

    [ended] = published(application, OrderExpiredV1)
    assert (ended.payload.order_reference, ended.payload.ended_on, ended.payload.reason) == (
        interim, clock.today(), f"the main application was {outcome}",
    )  # fmt: skip
    held = application.get_order(Order.create_id(application_id, interim=True))
    assert held["expired"] is True
    assert [task["change"] for task in held["national_record"]] == ["made", "ended"]


def test_an_order_is_reallocated_with_the_reason_to_another_team_in_the_directory(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)

    with pytest.raises(UnknownTeam, match="no team 'mosovo-nowhere'"):
        application.reallocate_order(order_id, "mosovo-nowhere", "x", MOSOVO)
    with pytest.raises(OrderAlreadyWithTeam, match="already managed by mosovo-north"):
        application.reallocate_order(order_id, "mosovo-north", "x", MOSOVO)
    application.reallocate_order(order_id, "mosovo-east", "the subject moved east", MOSOVO)

    [moved] = published(application, OrderReallocatedV1)
    assert (moved.payload.from_team, moved.payload.team) == ("mosovo-north", "mosovo-east")
    assert moved.payload.reason == "the subject moved east"
    assert is_sealed(payloads(application, OrderReallocatedV1)[0]["reason"])
    assert application.get_order(order_id)["team"] == "mosovo-east"
    with pytest.raises(OrderNotFound):
        application.reallocate_order(uuid4(), "mosovo-east", "x", MOSOVO)


def test_a_conviction_for_breaching_an_sro_makes_its_subject_subject_to_part_2_notification(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    reference = application.get_order(order_id)["reference"]

    def outcome(kind: BreachOutcome, order: UUID | None = order_id) -> BreachOutcomeRecordedV1:
        recorded = BreachOutcomeRecorded(order_reference=reference, order_id=order,
                                         outcome=kind, sentence=None)  # fmt: skip
        return sent(BreachOutcomeRecordedV1, recorded, "breach", uuid4())

    policy = application.when_breach_convicted_require_notification
    for kind in (BreachOutcome.CHARGED, BreachOutcome.ACQUITTED):
        assert consume(application, policy, outcome(kind)) == []
    assert consume(application, policy, outcome(BreachOutcome.CONVICTED, None)) == []  # older
    unchanged_so_far = application.get_order(order_id)["notification"]["requirement"]
    convicted = outcome(BreachOutcome.CONVICTED)
    assert consume(application, policy, convicted) == []
    assert consume(application, policy, again(convicted)) == []

    assert unchanged_so_far == SRO_NOTIFICATION
    [_, required] = published(application, OrderNotificationRequiredV1)
    assert (required.payload.requirement, required.payload.due_on) == (BREACH_NOTIFICATION, None)
    assert application.get_order(order_id)["notification"]["requirement"] == BREACH_NOTIFICATION


def test_convicted_of_breaching_an_interim_sro_its_subject_is_under_part_2_on_every_sro(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)
    application.grant_interim_order(application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)
    interim = Order.create_id(application_id, interim=True)
    reference = application.get_order(interim)["reference"]
    clock.move_on(days=20)
    application.grant_order(application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)
    convicted = BreachOutcomeRecorded(order_reference=reference, order_id=interim,
                                      outcome=BreachOutcome.CONVICTED, sentence=None)  # fmt: skip
    policy = application.when_breach_convicted_require_notification

    outcome = sent(BreachOutcomeRecordedV1, convicted, "breach", uuid4())
    assert consume(application, policy, outcome) == []
    later = granted(application, clock)  # replacing the one in force

    for order_id in (Order.create_id(application_id), later):
        assert application.get_order(order_id)["notification"]["requirement"] == BREACH_NOTIFICATION


def test_the_subjects_notifications_are_recorded_sealed_and_judged_late_or_not(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    today = clock.today()

    with pytest.raises(NotificationIncomplete, match="gives the home address"):
        notify(application, order_id, today, address=None)
    notify(application, order_id, today)
    with pytest.raises(InitialNotificationAlreadyRecorded):
        notify(application, order_id, today, address="2 Synthetic Row")
    with pytest.raises(ChangeDateRequired):
        moved = NotificationKind.CHANGE_OF_ADDRESS
        application.record_notification(
            order_id, moved, today, "phone", None, "2 Synthetic Row", None, MOSOVO
        )

    [recorded] = published(application, OrderNotificationRecordedV1)
    assert (recorded.payload.kind, recorded.payload.late) == ("initial", False)
    stored = b"".join(e.state for e in recorder(application).select_events(order_id))
    assert b"1 Synthetic Row" not in stored
    notification = application.get_order(order_id)["notification"]
    assert notification["status"] == f"notified on {today}"
    assert notification["notifications"][0]["address"] == "1 Synthetic Row"


def test_a_national_record_task_is_acknowledged_once_with_the_national_reference(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    [task] = application.get_order(order_id)["national_record"]

    with pytest.raises(NoSuchNationalRecordTask):
        application.acknowledge_national_record(order_id, uuid4(), "PNC 1", CASEWORKER)
    application.acknowledge_national_record(order_id, task["task_id"], "PNC 26/1X", CASEWORKER)
    with pytest.raises(NationalRecordTaskDone, match="PNC 26/1X"):
        application.acknowledge_national_record(order_id, task["task_id"], "PNC 2", CASEWORKER)

    [updated] = published(application, NationalRecordUpdatedV1)
    assert (updated.payload.national_reference, updated.payload.outstanding) == ("PNC 26/1X", 0)


def test_the_order_calendar_raises_an_overdue_notification_and_a_late_national_record_once(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    on_time = application.keep_order_calendar(order_id, clock.today())
    clock.move_on(days=4)  # the notification was due in 3 days, the national record in 72 hours

    raised = application.keep_order_calendar(order_id, clock.today())
    again_raised = application.keep_order_calendar(order_id, clock.today())

    assert (on_time, again_raised) == ([], [])
    assert raised == ["national record escalated", "notification overdue"]
    [overdue] = published(application, OrderNotificationOverdueV1)
    assert overdue.payload.team == "mosovo-north"
    assert len(published(application, NationalRecordEscalatedV1)) == 1


def test_the_order_calendar_raises_the_renewal_review_with_a_renewal_application_then_expiry(
    application: ApplicationService, clock: Clock
) -> None:
    # an SRO made two years ago (recorded late: no task or notification clock of its own)
    # that ends in 100 days; a review is due 3 months before
    order_id = granted(application, clock, ends_in_days=100, made_days_ago=2 * 365)
    clock.move_on(days=10)

    review = application.keep_order_calendar(order_id, clock.today())
    clock.move_on(days=91)
    ending = application.keep_order_calendar(order_id, clock.today())

    assert review == ["renewal review due"]
    assert ending == ["expired"]
    [renewal] = published(application, OrderApplicationOpenedV1)
    assert (renewal.payload.kind, renewal.payload.applicant) == ("renewal", "police")
    [due] = published(application, OrderRenewalReviewDueV1)
    [expired] = published(application, OrderExpiredV1)
    assert expired.payload.reason == "it reached its end date"
    assert due.payload.ends_on == expired.payload.ended_on
    assert application.get_order(order_id)["expired"] is True


def test_the_complaint_deadline_is_warned_of_once_while_the_application_is_not_yet_made(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = drafted(application, clock)
    deadline = clock.today() + timedelta(days=20)
    application.record_matter_date(application_id, months_after(deadline, -6), CASEWORKER)

    warned = application.warn_if_deadline_near(application_id, clock.today())
    warned_again = application.warn_if_deadline_near(application_id, clock.today())

    assert (warned, warned_again) == (True, False)
    [warning] = published(application, ComplaintDeadlineApproachingV1)
    assert (warning.payload.deadline, warning.payload.days_left) == (deadline, 20)
    assert application.get_application(application_id)["complaint_deadline"] == deadline


def test_a_complaint_out_of_time_fails_quality_assurance_and_is_not_made_to_a_court(
    application: ApplicationService, clock: Clock
) -> None:
    late = drafted(application, clock)
    matter_on = months_after(clock.today(), -7)
    application.record_matter_date(late, matter_on, CASEWORKER)
    in_time = drafted(application, clock)
    deadline = clock.today() + timedelta(days=5)
    application.record_matter_date(in_time, months_after(deadline, -6), CASEWORKER)
    for application_id in (late, in_time):
        application.submit_for_quality_assurance(application_id, CASEWORKER)

    missing = application.complete_quality_assurance(late, CASEWORKER)
    passed = application.complete_quality_assurance(in_time, CASEWORKER)
    clock.move_on(days=6)  # legal services take it to court after the deadline

    out_of_time = f"the complaint is out of time: it had to be made by {months_after(matter_on, 6)}"
    assert (missing, passed) == ([out_of_time], [])
    with pytest.raises(ComplaintOutOfTime, match=f"had to reach a court by {deadline}"):
        application.make_application(in_time, COURT, clock.today(), LEGAL)
    assert application.get_application(in_time)["stage"] == "with legal services"


def test_a_corrected_referral_corrects_the_subject_of_its_application_once(
    application: ApplicationService,
) -> None:
    accepted = referral_accepted(SUBJECT)
    application.when_referral_accepted_open_application(accepted)
    corrected = SUBJECT.model_copy(update={"date_of_birth": date(1978, 3, 2)})
    rectified = subject_rectified(accepted.payload.referral_id, corrected)
    policy = application.when_referral_subject_rectified_correct_it

    assert consume(application, policy, rectified) == []
    before = unchanged(application)
    assert consume(application, policy, again(rectified)) == []
    assert consume(application, policy, subject_rectified(uuid4(), corrected)) == []  # none

    application_id = application.application_for_referral(accepted.payload.referral_id)
    subject = application.get_application(application_id)["subject"]
    assert subject["date_of_birth"] == date(1978, 3, 2)
    assert unchanged(application) == before


def test_a_published_team_directory_is_adopted_once_and_orders_are_allocated_by_it(
    application: ApplicationService, clock: Clock
) -> None:
    directory = team_directory_published(
        moving(packaged("teams.yaml"), "west", to="mosovo-north"), "west joins the north team"
    )
    adopt = adopting_team_directories(application)

    assert consume(application, adopt, directory) == []
    before = unchanged(application)
    assert consume(application, adopt, again(directory)) == []
    assert unchanged(application) == before
    application_id = at_hearing(application, clock, district="west")
    application.grant_order(application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)

    [allocated] = published(application, OrderAllocatedV1)
    assert allocated.payload.team == "mosovo-north"


# Applications about an order -----------------------------------------------------------------


def to_hearing(application: ApplicationService, application_id: UUID, clock: Clock) -> list[str]:
    application.submit_for_quality_assurance(application_id, CASEWORKER)
    missing = application.complete_quality_assurance(application_id, CASEWORKER)
    if not missing:
        application.make_application(application_id, COURT, clock.today(), LEGAL)
        application.list_hearing(application_id, clock.today(), LEGAL)
    return missing


def police_variation(application: ApplicationService, order_id: UUID) -> UUID:
    """The managing team's application to vary the order."""
    return application.open_order_application(
        order_id, OrderApplicationKind.VARIATION, Applicant.POLICE,
        "He now contacts children online.", None, MOSOVO,
    )  # fmt: skip


def test_a_variation_goes_through_its_own_checklist_and_changes_the_order_only_when_granted(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    variation = police_variation(application, order_id)
    unreasoned = TermChange(TermAction.ADD, None, "prohibition", NO_INTERNET.wording, None, "")
    application.propose_term_change(variation, unreasoned, None, MOSOVO)

    missing = to_hearing(application, variation, clock)
    reasoned = TermChange(TermAction.ADD, None, "prohibition", NO_INTERNET.wording, None,
                          "Online contact with children since the order.")  # fmt: skip
    application.propose_term_change(variation, reasoned, 1, MOSOVO)
    terms_before_the_grant = application.get_order(order_id)["terms"]
    assert to_hearing(application, variation, clock) == []
    application.grant_order_application(variation, clock.today(), LEGAL)

    assert missing == ["change 1 does not say why it is now necessary and proportionate"]
    assert len(terms_before_the_grant) == 1
    [varied] = published(application, OrderVariedV1)
    assert [t.wording for t in varied.payload.terms] == [NO_CONTACT.wording, NO_INTERNET.wording]
    assert is_sealed(payloads(application, OrderVariedV1)[0]["terms"][1]["wording"])
    assert len(application.get_order(order_id)["terms"]) == 2
    [opened_event] = published(application, OrderApplicationOpenedV1)
    assert (opened_event.payload.kind, opened_event.payload.team) == ("variation", "mosovo-north")
    assert published(application, OrderApplicationStageChangedV1)[-1].payload.outcome == "granted"
    held = application.get_order_application(variation)
    assert (held["stage"], held["term_changes"][0]["reason"]) == (
        "decided", "Online contact with children since the order.",
    )  # fmt: skip
    with pytest.raises(NotForThisApplication, match="a variation application has no renewal"):
        application.set_out_renewal_case(variation, RenewalCase("x", None, True), MOSOVO)


def test_a_term_a_variation_adds_lasts_the_minimum_from_the_orders_making_as_any_term_does(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    clock.move_on(days=100)
    variation = police_variation(application, order_id)
    month = clock.today() + timedelta(days=30)
    short = TermChange(TermAction.ADD, None, "prohibition", NO_INTERNET.wording, month,
                       "Online contact with children since the order.")  # fmt: skip
    application.propose_term_change(variation, short, None, MOSOVO)
    assert to_hearing(application, variation, clock) == []
    before = unchanged(application)

    with pytest.raises(OrderShorterThanTheMinimum, match=f"term 2 ends on {month}: an SRO"):
        application.grant_order_application(variation, clock.today(), LEGAL)

    assert unchanged(application) == before and len(application.get_order(order_id)["terms"]) == 1


def test_a_variations_checklist_fails_a_foreign_travel_prohibition_with_no_fixed_end(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    variation = police_variation(application, order_id)
    travel = TermChange(TermAction.ADD, None, FOREIGN_TRAVEL, "Not to travel outside the UK.",
                        None, "He arranged to meet a child abroad.")  # fmt: skip
    application.propose_term_change(variation, travel, None, MOSOVO)

    missing = to_hearing(application, variation, clock)

    latest = months_after(clock.today(), 60)
    assert missing == [f"change 1 is a foreign travel prohibition: for a fixed period of at "
                       f"most 5 years at a time, to {latest} at the latest"]  # fmt: skip


def test_an_application_about_an_order_goes_with_the_order_to_the_team_managing_it_now(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    variation = police_variation(application, order_id)

    application.reallocate_order(order_id, "mosovo-east", "the subject moved east", MOSOVO)

    assert application.get_order_application(variation)["team"] == "mosovo-east"


def test_a_renewal_granted_runs_the_order_on_to_its_new_end(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    renewal = application.open_order_application(
        order_id, OrderApplicationKind.RENEWAL, Applicant.POLICE, "Risk remains.", None, MOSOVO
    )
    new_end = clock.today() + timedelta(days=6 * 365)

    case = RenewalCase("Intelligence of contact.", new_end, False)
    application.set_out_renewal_case(renewal, case, MOSOVO)
    assert to_hearing(application, renewal, clock) == []
    application.grant_order_application(renewal, clock.today(), LEGAL)

    [renewed] = published(application, OrderRenewedV1)
    assert renewed.payload.ends_on == new_end
    assert application.get_order(order_id)["ends_on"] == new_end.isoformat()
    with pytest.raises(NotForThisApplication):
        application.propose_term_change(renewal, TermChange(TermAction.REMOVE, 1, None, None,
                                                            None, "x"), None, MOSOVO)  # fmt: skip


def defendants_discharge(
    application: ApplicationService, order_id: UUID, received_on: date | None
) -> UUID:
    return application.open_order_application(
        order_id, OrderApplicationKind.DISCHARGE, Applicant.DEFENDANT, "Reformed.",
        received_on, MOSOVO,
    )  # fmt: skip


def test_a_defendants_discharge_within_the_minimum_needs_the_polices_consent(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    with pytest.raises(ReceivedDateRequired):
        defendants_discharge(application, order_id, None)
    discharge = defendants_discharge(application, order_id, clock.today())
    application.record_police_response(discharge, PoliceResponse(False, "Still a risk."), MOSOVO)
    assert to_hearing(application, discharge, clock) == []
    before = unchanged(application)

    with pytest.raises(DischargeNeedsPoliceConsent):
        application.grant_order_application(discharge, clock.today(), LEGAL)

    assert unchanged(application) == before and application.get_order(order_id)["expired"] is False
    police = application.open_order_application(
        order_id, OrderApplicationKind.VARIATION, Applicant.POLICE, "x", None, MOSOVO
    )
    with pytest.raises(NotForThisApplication, match="police response"):
        application.record_police_response(police, PoliceResponse(True, "x"), MOSOVO)


def test_a_defendants_discharge_of_an_interim_order_needs_no_consent_it_has_no_minimum(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)
    application.grant_interim_order(application_id, COURT, clock.today(), None, [NO_CONTACT], LEGAL)
    interim = Order.create_id(application_id, interim=True)
    discharge = defendants_discharge(application, interim, clock.today())
    application.record_police_response(discharge, PoliceResponse(False, "Oppose it."), MOSOVO)
    assert to_hearing(application, discharge, clock) == []

    application.grant_order_application(discharge, clock.today(), LEGAL)

    assert application.get_order(interim)["expired"] is True


def test_a_defendants_discharge_with_the_polices_consent_ends_the_order(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    discharge = defendants_discharge(application, order_id, clock.today())

    application.record_police_response(discharge, PoliceResponse(True, "Risk managed."), MOSOVO)
    assert to_hearing(application, discharge, clock) == []
    application.grant_order_application(discharge, clock.today(), LEGAL)

    [ended] = published(application, OrderExpiredV1)
    assert ended.payload.reason == "discharged by the court on the defendant's application"
    assert application.get_order_application(discharge)["police_response"]["consents"] is True


def test_a_variation_opened_before_another_was_granted_is_refused_rather_than_change_another_term(
    application: ApplicationService, clock: Clock
) -> None:
    application_id = at_hearing(application, clock)
    terms = [NO_CONTACT, NO_INTERNET, NO_SCHOOL]
    application.grant_order(application_id, COURT, clock.today(), None, terms, LEGAL)
    order_id = Order.create_id(application_id)
    # two variations in progress at once, each numbering the terms as the order stands
    first, second = police_variation(application, order_id), police_variation(application, order_id)
    removal = TermChange(TermAction.REMOVE, 1, None, None, None, "The child moved away.")
    application.propose_term_change(first, removal, None, MOSOVO)
    monitored = "Not to use any device that can reach the internet without monitoring software."
    rewording = TermChange(TermAction.REWORD, 2, "prohibition", monitored, None,
                           "The software named before is discontinued.")  # fmt: skip
    application.propose_term_change(second, rewording, None, MOSOVO)
    assert to_hearing(application, first, clock) == to_hearing(application, second, clock) == []
    # the first is granted: the internet term is now term 1, the school term 2
    application.grant_order_application(first, clock.today(), LEGAL)
    before = unchanged(application)

    with pytest.raises(TermChangedSinceOpened, match="its term 2 is no longer the term"):
        application.grant_order_application(second, clock.today(), LEGAL)

    assert unchanged(application) == before
    held = application.get_order(order_id)["terms"]
    assert [t["wording"] for t in held] == [NO_INTERNET.wording, NO_SCHOOL.wording]
    assert application.get_order_application(second)["stage"] == "hearing listed"
    stored = b"".join(e.state for e in recorder(application).select_events(second))
    assert NO_SCHOOL.wording.encode() not in stored  # the terms it was opened against, sealed


def test_an_order_discharged_is_not_reallocated_and_takes_no_notification_after_its_end(
    application: ApplicationService, clock: Clock
) -> None:
    order_id = granted(application, clock)
    discharge = application.open_order_application(
        order_id, OrderApplicationKind.DISCHARGE, Applicant.POLICE, "The risk has gone.", None,
        MOSOVO,
    )  # fmt: skip
    assert to_hearing(application, discharge, clock) == []
    clock.move_on(days=2)
    application.grant_order_application(discharge, clock.today(), LEGAL)
    before = unchanged(application)

    with pytest.raises(OrderNotInForce, match=f"not in force on {clock.today()}"):
        application.reallocate_order(order_id, "mosovo-east", "the subject moved east", MOSOVO)
    with pytest.raises(OrderNotInForce, match=f"not in force on {clock.today()}"):
        notify(application, order_id, clock.today())

    assert unchanged(application) == before
    assert application.get_order(order_id)["team"] == "mosovo-north"
    # one the subject made while the order had effect is still recorded, if late
    notify(application, order_id, clock.today() - timedelta(days=1))
    [recorded] = published(application, OrderNotificationRecordedV1)
    assert recorded.payload.notified_on == clock.today() - timedelta(days=1)
