from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from schemas.personal import ERASED
from schemas.trace import Trace
from services.referral.domain import (
    AlreadyAssigned,
    DeclineReason,
    NextReviewNotAfterToday,
    Referral,
    ReferralDatedAfterReceipt,
    ReferralNotAccepted,
    ReferralNotAwaitingTriage,
    ReferralNotReturned,
    ReviewGroup,
    ReviewNotDue,
    Status,
    Subject,
    SubjectAlreadyErased,
    SubjectHasOpenCasework,
    SubjectHasOrderInForce,
    SubjectRecord,
    SuspectDisposals,
    TriageNotOverdue,
    ever_held,
    referral_date,
    working_days_between,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CASEWORKER = Trace("caseworker:cw-1", uuid4())
SERVICE = Trace("service:referral", uuid4())


def received(reference: str = "NTH-1") -> Referral:
    return Referral(
        district="north",
        district_reference=reference,
        source="district:north",
        referring_officer="PC 1 (synthetic)",
        subject=Subject("SYN1", "Arlo Dunmere", date(1981, 5, 4)),
        order_sought="SRO",
        grounds="synthetic grounds",
        crime_references=["CR/1/26"],
        previous_convictions=[],
        referred_on=AT.date(),
        received_at=AT,
        trace=Trace("district-system:north", uuid4()),
    )


def test_the_same_district_reference_always_names_the_same_referral() -> None:
    assert received("NTH-7").id == received("NTH-7").id
    assert received("NTH-7").id != received("NTH-8").id


def test_a_caseworker_reviews_then_accepts_a_referral_and_each_step_records_who() -> None:
    referral = received()
    referral.start_review(AT, CASEWORKER)
    referral.accept(AT, CASEWORKER)

    [_, review_started, accepted] = referral.collect_events()
    assert isinstance(review_started, Referral.ReviewStarted)
    assert isinstance(accepted, Referral.Accepted)
    assert referral.status is Status.ACCEPTED
    assert [who for _, who, _ in referral.history] == [
        "district-system:north",
        "caseworker:cw-1",
        "caseworker:cw-1",
    ]


def test_an_accepted_referral_cannot_be_declined() -> None:
    referral = received()
    referral.accept(AT, CASEWORKER)

    with pytest.raises(ReferralNotAwaitingTriage, match="accepted"):
        referral.decline(DeclineReason.INSUFFICIENT_EVIDENCE, "too late", AT, CASEWORKER)


def test_a_declined_referral_keeps_its_reason() -> None:
    referral = received()
    referral.decline(DeclineReason.OUT_OF_FORCE_AREA, "lives in another force", AT, CASEWORKER)

    assert referral.status is Status.DECLINED
    assert referral.decline_reason == (DeclineReason.OUT_OF_FORCE_AREA, "lives in another force")


def test_a_referral_returned_for_information_waits_for_triage_again_once_answered() -> None:
    referral = received()
    referral.return_for_information(["Which school was approached?"], AT, CASEWORKER)

    with pytest.raises(ReferralNotAwaitingTriage, match="returned for information"):
        referral.accept(AT, CASEWORKER)
    later = AT + timedelta(days=3)
    referral.resubmit("Northtown Primary, twice in May.", later, Trace("officer:pc-1", uuid4()))

    assert referral.status is Status.RECEIVED
    assert referral.waiting_since == later
    assert referral.questions == ["Which school was approached?"]
    referral.accept(later, CASEWORKER)


def test_only_a_returned_referral_can_be_resubmitted() -> None:
    with pytest.raises(ReferralNotReturned):
        received().resubmit("answers", AT, CASEWORKER)


def test_an_accepted_referral_is_assigned_once_and_reassignment_records_both_caseworkers() -> None:
    referral = received()
    with pytest.raises(ReferralNotAccepted):
        referral.assign("caseworker:cw-1", "by hand", AT, CASEWORKER)
    referral.accept(AT, CASEWORKER)
    referral.assign("caseworker:cw-1", "least open caseload", AT, CASEWORKER)

    with pytest.raises(AlreadyAssigned):
        referral.assign("caseworker:cw-2", "by hand", AT, CASEWORKER)
    referral.reassign("caseworker:cw-2", "cw-1 on leave", AT, CASEWORKER)

    *_, reassigned = referral.collect_events()
    assert isinstance(reassigned, Referral.Reassigned)
    assert (reassigned.from_caseworker, reassigned.caseworker) == (
        "caseworker:cw-1",
        "caseworker:cw-2",
    )


def test_triage_is_overdue_after_the_service_level_in_working_days_and_flagged_once() -> None:
    referral = received()  # Sunday 1 March 2026
    friday = datetime(2026, 3, 6, 17, tzinfo=UTC)  # five working days later
    monday = datetime(2026, 3, 9, 9, tzinfo=UTC)

    with pytest.raises(TriageNotOverdue, match="waited 5 of 5 working days"):
        referral.flag_overdue(5, friday, SERVICE)
    referral.flag_overdue(5, monday, SERVICE)
    with pytest.raises(TriageNotOverdue, match="already flagged"):
        referral.flag_overdue(5, monday + timedelta(days=1), SERVICE)

    *_, overdue = referral.collect_events()
    assert isinstance(overdue, Referral.TriageOverdue)
    assert overdue.working_days == 6


def test_a_referral_knows_how_long_it_spent_in_each_state() -> None:
    referral = received()
    referral.start_review(AT + timedelta(hours=4), CASEWORKER)
    referral.accept(AT + timedelta(hours=10), CASEWORKER)

    hours = referral.time_in_each_state(AT + timedelta(hours=12))
    assert hours == {"received": 4.0, "under review": 6.0, "accepted": 2.0}


def test_working_days_skip_weekends() -> None:
    assert working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1  # Friday to Monday
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0


def test_a_subjects_record_follows_a_referral_into_an_application_and_an_order() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    referral_id, application_id = uuid4(), uuid4()

    record.open_referral(referral_id)
    assert record.links() == [f"open referral {referral_id}"]
    record.open_application(application_id, referral_id)
    assert record.links() == [f"open application {application_id}"]
    record.order_made("ORD-2026-AAAA0001", application_id)
    assert record.links() == ["live order ORD-2026-AAAA0001"]
    record.order_ended("ORD-2026-AAAA0001")
    assert record.links() == []


def test_a_referral_for_a_subject_with_open_casework_is_flagged_with_it() -> None:
    referral = received()
    referral.link_to_existing(["live order ORD-2026-AAAA0001"])

    [_, linked] = referral.collect_events()
    assert isinstance(linked, Referral.LinkedToExisting)
    assert referral.links == ["live order ORD-2026-AAAA0001"]


def test_a_referral_is_dated_the_day_it_arrives_unless_its_maker_dated_it_earlier() -> None:
    assert referral_date(None, AT) == AT.date()
    assert referral_date(date(2021, 7, 1), AT) == date(2021, 7, 1)
    with pytest.raises(ReferralDatedAfterReceipt):
        referral_date(AT.date() + timedelta(days=1), AT)


def test_referrals_stored_before_they_carried_a_referral_date_read_as_made_on_arrival() -> None:
    state: dict[str, object] = {"received_at": AT}
    Referral.Received.upcast_v1_v2(state)
    assert state["referred_on"] == AT.date()


def test_personal_data_is_disposed_of_once_and_never_while_an_order_is_in_force() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    record.order_made("ORD-2026-00000001", uuid4())
    trace = Trace("manager:mgr-1", uuid4())

    with pytest.raises(SubjectHasOrderInForce, match="ORD-2026-00000001"):
        record.dispose("MoPI review", AT, trace)
    record.order_ended("ORD-2026-00000001")
    record.dispose("MoPI review", AT, trace)
    with pytest.raises(SubjectAlreadyErased):
        record.dispose("again", AT, trace)

    [*_, disposed] = record.collect_events()
    assert isinstance(disposed, SubjectRecord.Disposed)
    assert (disposed.reason, disposed.trace.actor) == ("MoPI review", "manager:mgr-1")


def test_personal_data_is_not_disposed_of_while_a_referral_or_application_is_open() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    referral_id, application_id = uuid4(), uuid4()
    record.open_referral(referral_id)
    trace = Trace("manager:mgr-1", uuid4())

    with pytest.raises(SubjectHasOpenCasework, match=f"open referral {referral_id}"):
        record.dispose("MoPI review", AT, trace)
    record.open_application(application_id, referral_id)
    with pytest.raises(SubjectHasOpenCasework, match=f"open application {application_id}"):
        record.dispose("MoPI review", AT, trace)
    record.close_application(application_id)  # refused, say
    record.dispose("MoPI review", AT, trace)

    assert record.disposed_at == AT


def test_a_subject_access_finds_all_the_casework_ever_linked_to_a_person_closed_or_not() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    first, second, application_id = uuid4(), uuid4(), uuid4()
    record.open_referral(first)
    record.close_referral(first)  # declined
    record.open_referral(second)
    record.open_application(application_id, second)
    record.order_made("ORD-2026-00000002", application_id)
    record.order_ended("ORD-2026-00000002")
    record.schedule_review({1: 10, 2: 10, 3: 6}, AT.date())
    record.fall_due(date(2036, 3, 1))
    record.retain("risk remains", date(2040, 3, 1), datetime(2036, 3, 2, tzinfo=UTC), CASEWORKER)
    record.dispose("MoPI review", AT, Trace("manager:mgr-1", uuid4()))

    held = ever_held(record.collect_events())

    assert (held.referrals, held.applications) == ([first, second], [application_id])
    assert held.orders == ["ORD-2026-00000002"]
    assert [(r.reason, r.next_review_on) for r in held.retained] == [
        ("risk remains", date(2040, 3, 1))
    ]
    assert held.disposed is not None and held.disposed.trace.actor == "manager:mgr-1"
    assert ever_held(SubjectRecord(subject_nominal_id="SYN2").collect_events()).disposed is None


YEARS = {1: 10, 2: 10, 3: 6}
TODAY = AT.date()
REVIEWER = Trace("caseworker:cw-1", uuid4())


def test_a_persons_review_group_and_date_follow_the_nature_of_their_casework() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    referral_id, application_id = uuid4(), uuid4()

    record.open_referral(referral_id)
    record.schedule_review(YEARS, TODAY)
    assert (record.review_group, record.review_due_on) == (ReviewGroup.OTHER, date(2032, 3, 1))
    record.open_application(application_id, referral_id)
    record.schedule_review(YEARS, date(2026, 4, 1))
    assert (record.review_group, record.review_due_on) == (2, date(2036, 4, 1))
    record.order_made("ORD-2026-00000003", application_id)
    record.order_ended("ORD-2026-00000003")
    record.schedule_review(YEARS, date(2028, 4, 1))  # once managed for sexual risk, group 1
    assert (record.review_group, record.review_due_on) == (1, date(2038, 4, 1))


def due_for_review(orders: tuple[str, ...] = ()) -> SubjectRecord:
    record = SubjectRecord(subject_nominal_id="SYN1")
    for reference in orders:
        record.order_made(reference, uuid4())
    record.schedule_review(YEARS, TODAY)
    record.fall_due(record.review_due_on or TODAY)
    return record


def test_a_review_falls_due_on_its_date_and_not_before_nor_twice() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    record.schedule_review(YEARS, TODAY)

    with pytest.raises(ReviewNotDue, match="2032-02-29|2032-03-01"):
        record.fall_due(date(2032, 2, 28))
    record.fall_due(date(2032, 3, 1))
    with pytest.raises(ReviewNotDue):
        record.fall_due(date(2032, 3, 2))

    assert record.review_is_due


def test_retaining_a_record_says_why_and_moves_its_review_to_the_next_date() -> None:
    record = due_for_review()
    later = datetime(2032, 3, 2, 10, tzinfo=UTC)

    with pytest.raises(NextReviewNotAfterToday):
        record.retain("risk remains", later.date(), later, REVIEWER)
    record.retain("intelligence shows the risk remains", date(2040, 3, 1), later, REVIEWER)
    with pytest.raises(ReviewNotDue):
        record.retain("again", date(2041, 3, 1), later, REVIEWER)
    record.schedule_review(YEARS, date(2032, 4, 1))  # new casework does not bring it forward

    [*_, retained] = record.collect_events()
    assert isinstance(retained, SubjectRecord.Retained)
    assert (retained.reason, retained.trace.actor) == (
        "intelligence shows the risk remains",
        "caseworker:cw-1",
    )
    assert (record.review_due_on, record.review_is_due) == (date(2040, 3, 1), False)


def test_a_record_is_disposed_of_on_review_only_when_due_and_no_order_is_in_force() -> None:
    not_due = SubjectRecord(subject_nominal_id="SYN1")
    not_due.schedule_review(YEARS, TODAY)
    with pytest.raises(ReviewNotDue):
        not_due.dispose_on_review("MoPI review", AT, REVIEWER)
    subject_to_an_order = due_for_review(orders=("ORD-2026-00000004",))
    with pytest.raises(SubjectHasOrderInForce, match="ORD-2026-00000004"):
        subject_to_an_order.dispose_on_review("MoPI review", AT, REVIEWER)

    record = due_for_review()
    record.dispose_on_review("no longer necessary", AT, REVIEWER)

    assert record.disposed_at == AT and not record.review_is_due


def test_a_person_referred_again_after_disposal_starts_a_fresh_record() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    before = uuid4()
    record.open_referral(before)
    record.close_referral(before)  # declined
    record.schedule_review({1: 10, 2: 10, 3: 6}, AT.date())
    record.dispose("MoPI review", AT, Trace("manager:mgr-1", uuid4()))
    record.subject_nominal_id = ERASED  # as it reads once the key is destroyed

    record.seen_again("SYN1")
    again = uuid4()
    record.open_referral(again)

    assert (record.subject_nominal_id, record.disposed_at, record.review_due_on) == (
        "SYN1",
        None,
        None,
    )
    assert ever_held(record.collect_events()).referrals == [again]  # the rest was erased


def test_a_record_never_disposed_of_is_the_same_record_when_the_person_is_seen_again() -> None:
    record = SubjectRecord(subject_nominal_id="SYN1")
    record.seen_again("SYN1")

    assert [type(e) for e in record.collect_events()] == [SubjectRecord.Started]


def test_an_erased_suspects_disposals_start_afresh_when_they_are_named_again() -> None:
    history = SuspectDisposals(suspect_nominal_id="SYN1")
    history.note("CR/1/20", date(2020, 1, 1), "16")
    history.suspect_nominal_id = ERASED  # as it reads once the key is destroyed

    history.seen_again("SYN1")

    assert (history.suspect_nominal_id, history.earlier_dates()) == ("SYN1", [])
    assert history.outcomes == {}


def test_a_history_started_with_its_first_disposal_reads_as_one_noted_after_it_started() -> None:
    before = SuspectDisposals(suspect_nominal_id="SYN1")  # as histories were started before
    before.note("CR/1/20", date(2020, 1, 1), "16")
    now = SuspectDisposals("SYN1", "CR/1/20", date(2020, 1, 1), "16")

    assert (now.disposals, now.outcomes) == (before.disposals, before.outcomes)
    assert now.earlier_dates() == [date(2020, 1, 1)] and now.has_seen("CR/1/20")
    assert [type(e) for e in now.collect_events()] == [SuspectDisposals.Started]
