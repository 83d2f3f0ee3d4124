from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from schemas.application import Applicant, NotificationKind, OrderApplicationKind
from schemas.trace import Trace
from services.application.casework import (
    Element,
    EvidenceItem,
    EvidenceKind,
    LegalTest,
    ProposedTerm,
    TermAction,
    TermChange,
)
from services.application.domain import (
    Application,
    ApplicationAlreadyDecided,
    ApplicationNotAtStage,
    ChangeDateRequired,
    DischargeNeedsPoliceConsent,
    InitialNotificationAlreadyRecorded,
    InterimOrderAlreadyMade,
    NationalRecordTaskDone,
    NoDeadlineToWarnOf,
    NoSuchNationalRecordTask,
    NothingToEscalate,
    NotificationIncomplete,
    NotificationNotOverdue,
    Order,
    OrderAlreadyWithTeam,
    OrderApplication,
    OrderEndsBeforeItIsMade,
    OrderNotDueForReview,
    OrderNotDueToExpire,
    OrderNotInForce,
    OrderShorterThanTheMinimum,
    Outcome,
    Stage,
    Subject,
    Term,
    TermChangedSinceOpened,
    ends_of,
    require_lasting_the_minimum,
)

LEGAL = Trace("legal-services:ls-1", uuid4())
NO_CONTACT = Term("prohibition", "Not to have unsupervised contact with any child under 16.", None)


def opened(order_type: str = "SRO") -> Application:
    return Application(
        referral_id=uuid4(),
        district="north",
        order_type=order_type,
        subject=Subject("SYN1", "Arlo Dunmere", date(1981, 5, 4)),
        grounds="synthetic grounds",
        opened_at=datetime(2026, 3, 1, tzinfo=UTC),
        trace=Trace("service:application", uuid4()),
    )


def test_a_granted_application_creates_an_order_with_a_reference() -> None:
    application = at_hearing()

    order = application.grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)

    [outcome] = application.collect_events()
    [granted] = order.collect_events()
    assert isinstance(outcome, Application.OutcomeRecorded)
    assert isinstance(granted, Order.Granted)
    assert application.outcome is Outcome.GRANTED
    assert order.reference.startswith("ORD-2026-")
    assert order.id == Order.create_id(application.id)
    assert order.subject_nominal_id == "SYN1"


def test_an_interim_application_is_granted_as_interim() -> None:
    application = at_hearing("interim SRO")
    application.grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)

    assert application.outcome is Outcome.INTERIM_GRANTED


def test_an_application_is_decided_only_once() -> None:
    application = at_hearing()
    application.grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)

    with pytest.raises(ApplicationAlreadyDecided):
        application.grant_order("Northtown MC", date(2026, 6, 2), None, [NO_CONTACT], LEGAL)


def test_an_allocated_order_names_its_team() -> None:
    order = at_hearing().grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)

    [_, allocated] = order.collect_events()
    assert isinstance(allocated, Order.Allocated)
    assert order.team == "mosovo-north"


def test_an_order_moves_to_another_team_with_the_reason_and_the_team_it_left() -> None:
    order = at_hearing().grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)

    order.reallocate("mosovo-east", "subject moved to the east district", date(2026, 6, 2), LEGAL)

    [_, _, moved] = order.collect_events()
    assert isinstance(moved, Order.Reallocated)
    assert (moved.from_team, moved.team) == ("mosovo-north", "mosovo-east")
    assert order.team == "mosovo-east"


def test_an_order_is_not_reallocated_to_the_team_that_has_it() -> None:
    order = at_hearing().grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)

    with pytest.raises(OrderAlreadyWithTeam):
        order.reallocate("mosovo-north", "no change", date(2026, 6, 2), LEGAL)


def granted(made_on: date, ends_on: date | None) -> Order:
    order = at_hearing().grant_order("Northtown MC", made_on, ends_on, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)
    order.collect_events()
    return order


def test_a_renewal_review_is_raised_once_the_configured_months_before_the_end() -> None:
    order = granted(date(2024, 6, 1), date(2026, 6, 1))

    with pytest.raises(OrderNotDueForReview, match="it ends on 2026-06-01"):
        order.flag_renewal_review(datetime(2026, 2, 28, tzinfo=UTC), 3, LEGAL)
    order.flag_renewal_review(datetime(2026, 3, 1, tzinfo=UTC), 3, LEGAL)
    with pytest.raises(OrderNotDueForReview, match="has been raised"):
        order.flag_renewal_review(datetime(2026, 3, 2, tzinfo=UTC), 3, LEGAL)

    [review] = order.collect_events()
    assert isinstance(review, Order.RenewalReviewDue)
    assert review.ends_on == date(2026, 6, 1)


def test_a_variation_that_extends_an_order_brings_a_new_review_in_its_time() -> None:
    order = granted(date(2024, 6, 1), date(2026, 6, 1))
    order.flag_renewal_review(datetime(2026, 3, 1, tzinfo=UTC), 3, LEGAL)

    order.vary(date(2026, 4, 1), date(2028, 6, 1), [NO_CONTACT], LEGAL)

    with pytest.raises(OrderNotDueForReview):
        order.flag_renewal_review(datetime(2026, 4, 2, tzinfo=UTC), 3, LEGAL)
    order.flag_renewal_review(datetime(2028, 3, 1, tzinfo=UTC), 3, LEGAL)
    assert order.renewal_review_for == date(2028, 6, 1)


def test_an_order_expires_on_its_end_date_and_only_then() -> None:
    order = granted(date(2024, 6, 1), date(2026, 6, 1))

    with pytest.raises(OrderNotDueToExpire):
        order.expire(date(2026, 5, 31), LEGAL)
    order.expire(date(2026, 6, 1), LEGAL)

    assert order.expired
    with pytest.raises(OrderNotDueToExpire):
        order.expire(date(2026, 6, 2), LEGAL)
    with pytest.raises(OrderNotInForce):
        order.vary(date(2026, 6, 3), None, [NO_CONTACT], LEGAL)


def test_an_order_until_further_order_never_expires_or_comes_up_for_review() -> None:
    order = granted(date(2024, 6, 1), None)

    with pytest.raises(OrderNotDueToExpire):
        order.expire(date(2090, 1, 1), LEGAL)
    with pytest.raises(OrderNotDueForReview):
        order.flag_renewal_review(datetime(2090, 1, 1, tzinfo=UTC), 3, LEGAL)


def test_quality_assurance_names_everything_missing_and_sends_the_case_back() -> None:
    application = opened()
    application.propose_term(
        ProposedTerm("prohibition", "Not to behave inappropriately near children.", "", None),
        LEGAL,
    )
    application.submit_for_quality_assurance(LEGAL)

    missing = application.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL)

    assert missing == [
        "the legal test has not been set out",
        "no evidence supports the act of a sexual nature",
        "no evidence supports the necessity",
        "term 1 does not say why it is necessary and proportionate",
        "term 1 is too vague to enforce: inappropriate",
        "the draft order states no duration",
    ]
    assert application.stage is Stage.DRAFTING


def test_a_complete_case_passes_quality_assurance_and_goes_to_legal_services() -> None:
    application = complete_sro()
    application.submit_for_quality_assurance(LEGAL)

    assert application.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL) == []
    assert application.stage is Stage.WITH_LEGAL_SERVICES


def test_an_sro_shorter_than_two_years_or_an_shpo_shorter_than_five_fails() -> None:
    sro = complete_sro()
    sro.propose_duration(date(2028, 5, 31), False, LEGAL)
    sro.submit_for_quality_assurance(LEGAL)

    assert sro.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL) == [
        "an SRO must last at least 2 years (to 2028-06-01 or later)"
    ]


def test_an_shpo_needs_its_qualifying_offence_and_the_conduct_since() -> None:
    shpo = opened("SHPO")
    shpo.set_out_legal_test(LegalTest(necessity="synthetic necessity"), LEGAL)
    shpo.submit_for_quality_assurance(LEGAL)

    missing = shpo.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL)

    assert missing[:2] == [
        "the legal test does not state the qualifying offence",
        "the legal test does not state the conduct since",
    ]


def test_legal_services_return_a_case_with_comments_and_a_refusal_keeps_its_reason() -> None:
    application = complete_sro()
    application.submit_for_quality_assurance(LEGAL)
    application.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL)

    application.return_to_drafting("Add the school's statement.", LEGAL)
    assert application.stage is Stage.DRAFTING
    with pytest.raises(ApplicationNotAtStage):
        application.make_application("Northtown MC", date(2026, 6, 2), 6, LEGAL)

    application.submit_for_quality_assurance(LEGAL)
    application.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL)
    application.make_application("Northtown MC", date(2026, 6, 2), 6, LEGAL)
    application.list_hearing(date(2026, 7, 1), LEGAL)
    application.refuse(date(2026, 7, 1), "Not satisfied the order is necessary.", LEGAL)

    assert application.outcome is Outcome.REFUSED
    assert application.outcome_reason == "Not satisfied the order is necessary."
    assert application.comments == ["Add the school's statement."]


def complete_sro(order_type: str = "SRO") -> Application:
    application = opened(order_type)
    application.set_out_legal_test(
        LegalTest(necessity="synthetic necessity", act_of_a_sexual_nature="synthetic act"), LEGAL
    )
    application.propose_term(
        ProposedTerm("prohibition", NO_CONTACT.wording, "synthetic justification", None), LEGAL
    )
    application.add_evidence(
        EvidenceItem(
            EvidenceKind.STATEMENT,
            "synthetic statement",
            "PC 1 (synthetic)",
            date(2026, 5, 1),
            (Element.ACT_OF_A_SEXUAL_NATURE, Element.NECESSITY),
        ),
        LEGAL,
    )
    application.propose_duration(None, True, LEGAL)
    return application


def at_hearing(order_type: str = "SRO") -> Application:
    """A complete case that passed quality assurance and has a hearing listed."""
    application = complete_sro(order_type)
    application.submit_for_quality_assurance(LEGAL)
    assert application.complete_quality_assurance(date(2026, 6, 1), 6, LEGAL) == []
    application.make_application("Northtown MC", date(2026, 6, 2), 6, LEGAL)
    application.list_hearing(date(2026, 7, 1), LEGAL)
    application.collect_events()
    return application


def test_the_complaint_deadline_is_warned_of_once_while_there_is_time_to_act() -> None:
    application = opened()
    application.record_matter_relied_on(date(2026, 1, 15), LEGAL)

    assert application.complaint_deadline(6) == date(2026, 7, 15)
    with pytest.raises(NoDeadlineToWarnOf, match="45 days left"):
        application.warn_of_complaint_deadline(date(2026, 5, 31), 6, 28, LEGAL)
    application.warn_of_complaint_deadline(date(2026, 6, 20), 6, 28, LEGAL)
    with pytest.raises(NoDeadlineToWarnOf, match="already warned"):
        application.warn_of_complaint_deadline(date(2026, 6, 21), 6, 28, LEGAL)

    *_, warning = application.collect_events()
    assert isinstance(warning, Application.ComplaintDeadlineApproaching)
    assert (warning.deadline, warning.days_left) == (date(2026, 7, 15), 25)


def test_no_deadline_warning_once_the_application_is_before_the_court() -> None:
    application = at_hearing()
    application.record_matter_relied_on(date(2026, 1, 15), LEGAL)

    with pytest.raises(NoDeadlineToWarnOf, match="already made"):
        application.warn_of_complaint_deadline(date(2026, 7, 1), 6, 28, LEGAL)


def test_an_interim_order_pending_the_main_application_is_replaced_by_the_full_order() -> None:
    application = at_hearing()

    interim = application.grant_interim_order(
        "Northtown MC", date(2026, 7, 1), date(2026, 10, 1), [NO_CONTACT], LEGAL
    )
    with pytest.raises(InterimOrderAlreadyMade):
        application.grant_interim_order("Northtown MC", date(2026, 7, 2), None, [NO_CONTACT], LEGAL)
    full = application.grant_order("Northtown MC", date(2026, 9, 1), None, [NO_CONTACT], LEGAL)
    interim.end_with_main_application(date(2026, 9, 1), f"replaced by {full.reference}", LEGAL)

    assert (interim.order_type, interim.interim) == ("interim SRO", True)
    assert (full.order_type, full.interim) == ("SRO", False)
    assert interim.id != full.id
    *_, ended = interim.collect_events()
    assert isinstance(ended, Order.Expired)
    assert ended.reason == f"replaced by {full.reference}"


def test_a_defendant_cannot_have_an_sro_discharged_within_two_years_without_police_consent() -> (
    None
):
    order = granted(date(2026, 6, 1), None)

    with pytest.raises(DischargeNeedsPoliceConsent, match="before 2028-06-01"):
        order.discharge(date(2027, 6, 1), "defendant", False, LEGAL)
    order.discharge(date(2027, 6, 1), "defendant", True, LEGAL)

    [ended] = order.collect_events()
    assert isinstance(ended, Order.Expired)
    assert ended.reason == "discharged by the court on the defendant's application"
    assert order.expired


def test_a_renewed_order_runs_to_its_new_end_date() -> None:
    order = granted(date(2024, 6, 1), date(2026, 6, 1))

    order.renew(date(2026, 5, 1), date(2028, 6, 1), LEGAL)

    assert order.ends_on == date(2028, 6, 1)
    with pytest.raises(OrderNotDueToExpire):
        order.expire(date(2026, 6, 1), LEGAL)


def test_an_adjourned_hearing_waits_for_its_new_date() -> None:
    application = at_hearing()

    application.adjourn(date(2026, 8, 1), "defence asked for time", LEGAL)

    assert application.stage is Stage.HEARING_LISTED
    assert application.hearing_on == date(2026, 8, 1)
    assert application.adjournments == [(date(2026, 8, 1), "defence asked for time")]


MADE = date(2026, 6, 1)
MOSOVO = Trace("mosovo:mo-1", uuid4())


def sro_made(on: date = MADE, recorded_on: date = MADE) -> Order:
    order = granted(on, None)
    order.require_notification(3, recorded_on, MOSOVO)
    return order


def test_an_sro_is_notified_within_three_days_and_an_overdue_one_is_raised_once() -> None:
    order = sro_made()

    assert order.notification_status(MADE) == "due by 2026-06-04"
    with pytest.raises(NotificationNotOverdue):
        order.flag_notification_overdue(date(2026, 6, 4), MOSOVO)  # its last day
    order.flag_notification_overdue(date(2026, 6, 5), MOSOVO)
    with pytest.raises(NotificationNotOverdue):
        order.flag_notification_overdue(date(2026, 6, 6), MOSOVO)
    assert order.notification_status(date(2026, 6, 5)) == "overdue: was due by 2026-06-04"
    raised = [e for e in order.collect_events() if isinstance(e, Order.NotificationOverdue)]
    assert [e.due_on for e in raised] == [date(2026, 6, 4)]


def test_a_notification_made_after_its_due_date_is_recorded_as_late_and_ends_the_clock() -> None:
    order = sro_made()

    order.record_notification(
        NotificationKind.INITIAL, date(2026, 6, 6), "at the front counter",
        "Arlo Dunmere", "1 Synthetic Row, Northtown", None, MOSOVO,
    )  # fmt: skip

    assert order.notification_status(date(2026, 6, 30)) == "notified on 2026-06-06 (late)"
    with pytest.raises(NotificationNotOverdue):
        order.flag_notification_overdue(date(2026, 6, 30), MOSOVO)
    with pytest.raises(InitialNotificationAlreadyRecorded):
        order.record_notification(
            NotificationKind.INITIAL, date(2026, 6, 7), "by post", "A D", "2 Row", None, MOSOVO
        )


def test_a_change_needs_what_changed_and_when_and_is_late_three_days_after_it() -> None:
    order = sro_made()
    with pytest.raises(NotificationIncomplete, match="new home address"):
        order.record_notification(
            NotificationKind.CHANGE_OF_ADDRESS, MADE, "in person", None, None, MADE, MOSOVO
        )
    with pytest.raises(ChangeDateRequired):
        order.record_notification(
            NotificationKind.CHANGE_OF_ADDRESS, MADE, "in person", None, "3 Row", None, MOSOVO
        )
    with pytest.raises(NotificationIncomplete, match="name"):
        order.record_notification(
            NotificationKind.INITIAL, MADE, "in person", None, "3 Row", None, MOSOVO
        )

    order.record_notification(
        NotificationKind.CHANGE_OF_ADDRESS, date(2026, 7, 10), "by phone, then in person",
        None, "4 Synthetic Close, Eastbury", date(2026, 7, 6), MOSOVO,
    )  # fmt: skip

    [change] = order.notifications
    assert change.late and change.address == "4 Synthetic Close, Eastbury"


def test_an_shpo_carries_the_notification_requirements_without_a_clock_here() -> None:
    shpo = Order(
        application_id=uuid4(), case_number=None, interim=False, order_type="SHPO",
        subject_nominal_id="SYN1", district="north", court="Northtown MC", made_on=MADE,
        ends_on=None, terms=[NO_CONTACT], trace=LEGAL,
    )  # fmt: skip
    shpo.require_notification(3, MADE, MOSOVO)

    assert shpo.notification_due_on is None
    assert shpo.notification_status(date(2027, 1, 1)) == "managed on ViSOR"
    with pytest.raises(NotificationNotOverdue):
        shpo.flag_notification_overdue(date(2027, 1, 1), MOSOVO)


def test_an_sro_recorded_after_its_notification_fell_due_starts_no_clock() -> None:
    order = sro_made(on=date(2024, 1, 10), recorded_on=MADE)

    assert order.notification_due_on is None
    assert "recorded after it fell due" in order.notification_status(MADE)
    with pytest.raises(NotificationNotOverdue):
        order.flag_notification_overdue(MADE, MOSOVO)


NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)
THREE_DAYS = timedelta(days=3)


def test_each_change_to_an_order_raises_one_national_record_task_acknowledged_once() -> None:
    order = at_hearing().grant_order("Northtown MC", MADE, date(2028, 6, 1), [NO_CONTACT], LEGAL)
    order.raise_national_record_tasks(NOON, THREE_DAYS)
    order.renew(date(2026, 7, 1), date(2029, 6, 1), LEGAL)
    order.raise_national_record_tasks(NOON + timedelta(days=30), THREE_DAYS)
    order.raise_national_record_tasks(NOON + timedelta(days=31), THREE_DAYS)  # nothing new

    made, renewed = order.national_record
    order.acknowledge_national_record(made.task_id, "PNC 26/000001A", NOON, LEGAL)
    with pytest.raises(NationalRecordTaskDone):
        order.acknowledge_national_record(made.task_id, "PNC 26/000001A", NOON, LEGAL)
    with pytest.raises(NoSuchNationalRecordTask):
        order.acknowledge_national_record(uuid4(), "PNC 26/000002B", NOON, LEGAL)

    assert (made.change, made.effective_on, made.due_at) == ("made", MADE, NOON + THREE_DAYS)
    assert (renewed.change, renewed.effective_on) == ("renewed", date(2026, 7, 1))
    assert [t.task_id for t in order.national_record_outstanding] == [renewed.task_id]


def test_an_order_entered_after_its_time_for_the_national_record_raises_no_task() -> None:
    order = at_hearing().grant_order("Northtown MC", date(2024, 1, 10), None, [NO_CONTACT], LEGAL)
    order.raise_national_record_tasks(NOON, THREE_DAYS)

    assert order.national_record == []


def test_a_national_record_task_past_its_time_is_escalated_once() -> None:
    order = at_hearing().grant_order("Northtown MC", MADE, None, [NO_CONTACT], LEGAL)
    order.raise_national_record_tasks(NOON, THREE_DAYS)

    with pytest.raises(NothingToEscalate):
        order.escalate_national_record(NOON + THREE_DAYS, LEGAL)  # not past it yet
    order.escalate_national_record(NOON + THREE_DAYS + timedelta(minutes=1), LEGAL)
    with pytest.raises(NothingToEscalate):
        order.escalate_national_record(NOON + timedelta(days=9), LEGAL)
    [task] = order.national_record
    order.acknowledge_national_record(task.task_id, "PNC 26/000003C", NOON, LEGAL)

    escalated = [e for e in order.collect_events() if isinstance(e, Order.NationalRecordEscalated)]
    assert [e.task_id for e in escalated] == [task.task_id]
    assert order.national_record_outstanding == []


def test_an_shpo_is_made_for_five_years_at_least_and_an_interim_order_for_any_time() -> None:
    made = date(2026, 7, 1)
    late_term = [Term("prohibition", NO_CONTACT.wording, date(2031, 7, 1))]
    require_lasting_the_minimum("SHPO", False, made, ends_of(date(2031, 7, 1), late_term))
    require_lasting_the_minimum("SHPO", True, made, ends_of(date(2026, 7, 2), [NO_CONTACT]))

    with pytest.raises(OrderShorterThanTheMinimum, match="an SHPO lasts at least 5 years"):
        require_lasting_the_minimum("SHPO", False, made, ends_of(date(2031, 6, 30), [NO_CONTACT]))
    short_term = [NO_CONTACT, Term("requirement", "To attend an assessment.", date(2030, 1, 1))]
    with pytest.raises(OrderShorterThanTheMinimum, match="term 2 ends on 2030-01-01"):
        require_lasting_the_minimum("SHPO", False, made, ends_of(None, short_term))
    with pytest.raises(OrderEndsBeforeItIsMade, match="the order ends on 2026-07-01"):
        at_hearing().grant_interim_order("Northtown MC", made, made, [NO_CONTACT], LEGAL)


def test_an_interim_order_ends_with_the_main_application_unless_it_is_over_already() -> None:
    pending = at_hearing().grant_interim_order("Northtown MC", MADE, None, [NO_CONTACT], LEGAL)
    lapsed = at_hearing().grant_interim_order(
        "Northtown MC", MADE, date(2026, 7, 1), [NO_CONTACT], LEGAL
    )
    with pytest.raises(OrderNotInForce):
        pending.end_with_main_application(date(2026, 5, 31), "refused before it was made", LEGAL)

    pending.end_with_main_application(date(2026, 7, 20), "the main application was refused", LEGAL)
    lapsed.end_with_main_application(date(2026, 7, 20), "the main application was refused", LEGAL)

    [_, ended] = pending.collect_events()
    assert isinstance(ended, Order.Expired)
    assert (ended.ended_on, ended.reason) == (date(2026, 7, 20), "the main application was refused")
    [_] = lapsed.collect_events()  # over on its end date: the calendar records it so
    assert lapsed.ends_on == date(2026, 7, 1)


def test_an_order_over_is_not_moved_to_another_team_nor_notified_after_its_end() -> None:
    discharged = sro_made()
    discharged.discharge(date(2026, 7, 1), "police", True, LEGAL)
    ended = granted(date(2024, 6, 1), date(2026, 6, 1))  # over, before the calendar has looked

    with pytest.raises(OrderNotInForce, match="not in force on 2026-07-02"):
        discharged.reallocate("mosovo-east", "the subject moved east", date(2026, 7, 2), LEGAL)
    with pytest.raises(OrderNotInForce, match="not in force on 2026-06-01"):
        ended.reallocate("mosovo-east", "the subject moved east", date(2026, 6, 1), LEGAL)
    with pytest.raises(OrderNotInForce, match="not in force on 2026-07-01"):
        discharged.record_notification(
            NotificationKind.INITIAL, date(2026, 7, 1), "in person", "A D", "1 Row", None, LEGAL
        )
    discharged.record_notification(
        NotificationKind.INITIAL, date(2026, 6, 30), "in person", "A D", "1 Row", None, LEGAL
    )  # made the day before it was discharged, recorded after

    assert (discharged.team, ended.team) == ("mosovo-north", "mosovo-north")
    assert [n.notified_on for n in discharged.notifications] == [date(2026, 6, 30)]


def variation(about: Order, *changes: TermChange) -> OrderApplication:
    """The police's variation of the order, with these changes, at its hearing."""
    opened_at = datetime(2026, 7, 1, 9, tzinfo=UTC)
    application = about.application_to_court(
        OrderApplicationKind.VARIATION, Applicant.POLICE, "grounds", None, opened_at, LEGAL
    )
    for change in changes:
        application.propose_term_change(change, None, LEGAL)
    application.submit_for_quality_assurance(LEGAL)
    assert application.complete_quality_assurance(date(2026, 7, 2), 6, LEGAL) == []
    application.make_application("Northtown MC", date(2026, 7, 3), 6, LEGAL)
    application.list_hearing(date(2026, 7, 20), LEGAL)
    return application


def test_a_variation_granted_after_another_changes_only_terms_still_as_it_found_them() -> None:
    parks = Term("prohibition", "Not to enter parks.", None)
    about = at_hearing().grant_order("Northtown MC", MADE, None, [NO_CONTACT, parks], LEGAL)
    devices, wider = "To disclose every device.", "Not to contact any child under 16."
    add = TermChange(TermAction.ADD, None, "requirement", devices, None, "He hid a phone.")
    reword = TermChange(TermAction.REWORD, 1, "prohibition", wider, None, "Wider.")
    remove = TermChange(TermAction.REMOVE, 1, None, None, None, "Moved.")
    # three variations in progress at once, each numbering the terms as the order stands
    adding, rewording = variation(about, add), variation(about, reword)
    removing = variation(about, remove)

    adding.grant(about, date(2026, 7, 20), LEGAL)
    rewording.grant(about, date(2026, 7, 21), LEGAL)  # term 1 is as it found it
    with pytest.raises(TermChangedSinceOpened, match="its term 1 is no longer the term"):
        removing.grant(about, date(2026, 7, 22), LEGAL)

    assert [t.wording for t in about.terms] == [wider, parks.wording, devices]


def test_applications_opened_before_they_kept_the_orders_terms_read_as_keeping_none() -> None:
    state: dict[str, object] = {"terms_in_order": 2}
    OrderApplication.Opened.upcast_v1_v2(state)
    assert state == {"terms_in_order": 2, "order_terms": None}
