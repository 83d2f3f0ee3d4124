"""The referral service's service layer: referrals from districts and staff triaged to an
accepted case or a decline; proactive screening of disposals into candidates; each person's
record of their casework (what the application service's events change), its MoPI review,
and the person's rights: subject access, rectification, erasure."""

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from civil_orders.drills.synthetic import Synthetic
from plumbing.memory import NoSqlInMemory
from plumbing.personal import PersonalDataErased
from plumbing.runtime import create_app
from schemas import dates
from schemas.application import ApplicationStage
from schemas.common import OrderSought, ReferredSubject
from schemas.configuration import ScreeningRules
from schemas.district import DistrictReferral, VictimAgeBand
from schemas.personal import ERASED, is_sealed
from schemas.referral import (
    DisposalScreenedV1,
    ProactiveCandidateIdentifiedV1,
    ReferralAcceptedV1,
    ReferralReceivedV1,
    ReferralStatusChangedV1,
    ReferralSubjectRectifiedV1,
    ScreeningCoverageV1,
)
from schemas.trace import Trace
from services.application.application import ApplicationService
from services.referral.application import (
    CandidateIsAnotherPerson,
    NothingHeldAbout,
    ReferralNotFound,
    ReferralService,
)
from services.referral.domain import (
    AlreadyAssigned,
    Candidate,
    CandidateAlreadyDecided,
    DeclineReason,
    DismissalReason,
    NextReviewNotAfterToday,
    NothingToRectify,
    Referral,
    ReferralNotAccepted,
    ReferralNotAwaitingTriage,
    ReferralNotReturned,
    ReviewNotDue,
    SubjectHasOpenCasework,
    SubjectHasOrderInForce,
    SubjectRecord,
    SuspectDisposals,
)
from services.referral.main import definition
from tests.service.conftest import Clock
from tests.service.published import (
    aggregates_with,
    consume,
    kinds,
    log_size,
    messages,
    payloads,
    published,
    recorder,
    stored,
    unchanged,
)
from tests.service.upstream import (
    again,
    application_moved,
    application_opened,
    disposal,
    order_expired,
    order_granted,
    packaged,
    person,
    referral_accepted,
    screening_rules_published,
)

CASEWORKER = Trace("caseworker:cw-1", uuid4())
DPO = Trace("data-protection:dpo-1", uuid4())
SUBJECT = person(1)
YEARS_6 = 6 * 366  # days: past group 3's review period (6 years)


def referred(
    subject: ReferredSubject = SUBJECT, reference: str = "NOR-TIER-0001"
) -> DistrictReferral:
    return DistrictReferral(
        district="north",
        district_reference=reference,
        referring_officer="PC 4242 (synthetic)",
        subject=subject,
        order_sought=OrderSought.SRO,
        grounds="Synthetic grounds: approaches to children near a school.",
        crime_references=["CR/101/26"],
    )


def received(referral: ReferralService, subject: ReferredSubject = SUBJECT,
             reference: str = "NOR-TIER-0001") -> UUID:  # fmt: skip
    return referral.receive_referral(referred(subject, reference), "staff form", CASEWORKER)


def accepted(referral: ReferralService, subject: ReferredSubject = SUBJECT) -> UUID:
    referral_id = received(referral, subject)
    referral.start_review(referral_id, CASEWORKER)
    referral.accept_referral(referral_id, CASEWORKER, "caseworker:cw-2")
    return referral_id


def declined(referral: ReferralService, subject: ReferredSubject = SUBJECT) -> UUID:
    referral_id = received(referral, subject)
    referral.decline_referral(
        referral_id, DeclineReason.INSUFFICIENT_EVIDENCE, "no account from the school", CASEWORKER
    )
    return referral_id


def statuses(referral: ReferralService) -> list[str]:
    return [e.payload.status.value for e in published(referral, ReferralStatusChangedV1)]


# Referrals and their triage ------------------------------------------------------------------


def test_a_referral_is_recorded_once_and_published_without_the_persons_details(
    referral: ReferralService, clock: Clock
) -> None:
    referral_id = received(referral)
    before = unchanged(referral)

    assert received(referral) == referral_id  # the same district reference again
    assert unchanged(referral) == before
    [event] = published(referral, ReferralReceivedV1)
    assert event.aggregate_id == referral_id
    assert messages(referral)[0].topic == "referral.referrals.v1"
    assert event.payload.model_dump() == {
        "district": "north",
        "district_reference": "NOR-TIER-0001",
        "source": "staff form",
        "order_sought": OrderSought.SRO,
        "referred_on": clock.today(),
    }
    [stored_received] = recorder(referral).select_events(referral_id, limit=1)
    assert SUBJECT.name.encode() not in stored_received.state  # sealed in the store too
    assert referral.get_referral(referral_id)["subject_nominal_id"] == SUBJECT.nominal_id


def test_a_district_referral_is_recorded_as_made_on_the_day_the_district_made_it(
    referral: ReferralService, clock: Clock
) -> None:
    sent = Synthetic().referral("north", referred_at=clock.now() - timedelta(days=3))

    assert consume(referral, referral.when_district_referral_received_record_it, sent) == []
    before = unchanged(referral)
    assert consume(referral, referral.when_district_referral_received_record_it, again(sent)) == []

    [event] = published(referral, ReferralReceivedV1)
    assert event.payload.source == "district:north" and event.actor == "district-system:north"
    assert event.payload.referred_on == clock.today() - timedelta(days=3)
    assert event.correlation_id == sent.correlation_id and event.causation_id == sent.event_id
    assert unchanged(referral) == before


def test_an_accepted_referral_is_assigned_and_published_whole_with_the_person_sealed(
    referral: ReferralService,
) -> None:
    referral_id = received(referral)
    referral.start_review(referral_id, CASEWORKER)

    assigned = referral.accept_referral(referral_id, CASEWORKER, "caseworker:cw-2")

    [event] = published(referral, ReferralAcceptedV1)
    [raw] = payloads(referral, ReferralAcceptedV1)
    assert assigned == "caseworker:cw-2" and statuses(referral) == ["under review", "accepted"]
    assert event.payload.subject.model_dump() == SUBJECT.model_dump()
    assert event.payload.referral_id == referral_id
    assert event.payload.accepted_by == "caseworker:cw-1"
    assert all(is_sealed(raw["subject"][f]) for f in ("nominal_id", "name", "date_of_birth"))
    assert is_sealed(raw["grounds"]) and all(is_sealed(c) for c in raw["crime_references"])
    assert published(referral, ReferralStatusChangedV1)[-1].payload.caseworker == "caseworker:cw-2"
    held = referral.get_referral(referral_id)
    assert (held["status"], held["caseworker"]) == ("accepted", "caseworker:cw-2")
    assert [step["status"] for step in held["history"]] == ["received", "under review", "accepted"]


def test_accepting_with_no_caseworker_named_reads_the_queue_which_only_postgresql_keeps(
    referral: ReferralService,
) -> None:
    """The caseworker with the fewest open cases is found in the queue's SQL read model:
    e2e only (tests/e2e/test_triage.py)."""
    referral_id = received(referral)

    with pytest.raises(NoSqlInMemory):
        referral.accept_referral(referral_id, CASEWORKER)
    assert referral.get_referral(referral_id)["status"] == "received"


def test_a_referral_is_triaged_once(referral: ReferralService) -> None:
    referral_id = accepted(referral)
    before = unchanged(referral)

    with pytest.raises(ReferralNotAwaitingTriage, match="is accepted, so it cannot be triaged"):
        referral.start_review(referral_id, CASEWORKER)
    with pytest.raises(ReferralNotAwaitingTriage):
        referral.decline_referral(referral_id, DeclineReason.OUT_OF_FORCE_AREA, "x", CASEWORKER)
    assert unchanged(referral) == before


def test_a_referral_returned_with_questions_waits_again_once_answered(
    referral: ReferralService,
) -> None:
    referral_id = received(referral)
    with pytest.raises(ReferralNotReturned, match="is received, not returned"):
        referral.resubmit_referral(referral_id, "nothing was asked", CASEWORKER)

    referral.return_referral(referral_id, ["Which school?", "When?"], CASEWORKER)
    referral.resubmit_referral(referral_id, "Northtown Primary, in March", CASEWORKER)

    assert statuses(referral) == ["returned for information", "received"]
    assert published(referral, ReferralStatusChangedV1)[0].payload.reason == "Which school?; When?"
    assert is_sealed(payloads(referral, ReferralStatusChangedV1)[0]["reason"])
    assert referral.get_referral(referral_id)["questions"] == ["Which school?", "When?"]


def test_an_accepted_referral_is_reassigned_with_the_reason_to_someone_else(
    referral: ReferralService,
) -> None:
    waiting = received(referral, person(2), "NOR-TIER-0002")
    with pytest.raises(ReferralNotAccepted, match="only accepted referrals have a caseworker"):
        referral.reassign_referral(waiting, "caseworker:cw-1", "cover", CASEWORKER)
    referral_id = accepted(referral)

    referral.reassign_referral(referral_id, "caseworker:cw-1", "cw-2 on leave", CASEWORKER)
    with pytest.raises(AlreadyAssigned, match="already assigned to caseworker:cw-1"):
        referral.reassign_referral(referral_id, "caseworker:cw-1", "again", CASEWORKER)

    moved = published(referral, ReferralStatusChangedV1)[-1]
    assert (moved.payload.caseworker, moved.payload.reason) == ("caseworker:cw-1", "cw-2 on leave")
    assert referral.get_referral(referral_id)["caseworker"] == "caseworker:cw-1"


def http_edge(referral: ReferralService, **state: Any) -> httpx.AsyncClient:
    """The service's own HTTP routes in process, on its in-memory store (and what stands in
    for its tables, in `state`)."""
    app = create_app(definition, referral.settings)
    app.state.__dict__.update(service=referral, **state)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://referral")


def refused_as_no_caseworker(response: httpx.Response) -> None:
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "caseworker"]
    assert error["msg"].endswith(
        "is not one of the force's caseworkers: caseworker:cw-1, caseworker:cw-2"
    )


@pytest.mark.parametrize("given", ["", "   ", "nobody", "district-referrer:ref-north"])
async def test_a_referral_is_accepted_by_hand_only_for_one_of_the_forces_caseworkers(
    referral: ReferralService, given: str
) -> None:
    referral_id = received(referral)
    referral.start_review(referral_id, CASEWORKER)
    before = unchanged(referral)

    async with http_edge(referral) as edge:
        response = await edge.post(
            f"/referrals/{referral_id}/accept",
            json={"caseworker": given},
            headers={"X-Actor": CASEWORKER.actor},
        )

    refused_as_no_caseworker(response)
    assert unchanged(referral) == before
    assert referral.get_referral(referral_id)["status"] == "under review"


async def test_an_accepted_referral_is_reassigned_only_to_one_of_the_forces_caseworkers(
    referral: ReferralService,
) -> None:
    referral_id = accepted(referral)
    before = unchanged(referral)

    async with http_edge(referral) as edge:
        response = await edge.post(
            f"/referrals/{referral_id}/reassign",
            json={"caseworker": "nobody at all", "reason": "cover"},
            headers={"X-Actor": CASEWORKER.actor},
        )

    refused_as_no_caseworker(response)
    assert unchanged(referral) == before
    assert referral.get_referral(referral_id)["caseworker"] == "caseworker:cw-2"


def test_a_declined_referral_is_published_with_its_reason_and_closed_on_the_persons_record(
    referral: ReferralService,
) -> None:
    referral_id = received(referral)
    assert referral.open_casework(SUBJECT.nominal_id) == [f"open referral {referral_id}"]

    referral.decline_referral(
        referral_id, DeclineReason.INSUFFICIENT_EVIDENCE, "no account from the school", CASEWORKER
    )

    [event] = published(referral, ReferralStatusChangedV1)
    assert event.payload.status.value == "declined"
    assert event.payload.reason == "insufficient evidence: no account from the school"
    assert referral.open_casework(SUBJECT.nominal_id) == []


def test_a_referral_waiting_past_the_service_level_is_flagged_once_and_kept_private(
    referral: ReferralService, clock: Clock
) -> None:
    referral_id = received(referral)
    on_time = referral.flag_if_overdue(referral_id)
    clock.move_on(days=10)  # at least six working days, of five allowed

    flagged = referral.flag_if_overdue(referral_id)
    again_flagged = referral.flag_if_overdue(referral_id)

    assert (on_time, flagged, again_flagged) == (False, True, False)
    assert kinds(stored(referral, referral_id))[-1] == "Referral.TriageOverdue"
    assert messages(referral, ReferralStatusChangedV1) == []  # the queue's business alone


def test_a_referral_is_found_by_its_district_reference_and_an_unknown_one_is_not(
    referral: ReferralService,
) -> None:
    referral_id = received(referral)

    assert referral.referral_for("north", "NOR-TIER-0001") == referral_id
    with pytest.raises(ReferralNotFound, match="no referral"):
        referral.referral_for("north", "NOR-NOSUCH")
    with pytest.raises(ReferralNotFound):
        referral.start_review(uuid4(), CASEWORKER)


def test_a_second_referral_of_the_same_person_is_linked_to_the_first(
    referral: ReferralService,
) -> None:
    first = received(referral)
    second = received(referral, SUBJECT, "NOR-TIER-0002")

    assert referral.get_referral(second)["links"] == [f"open referral {first}"]
    assert referral.open_casework(SUBJECT.nominal_id) == [
        f"open referral {first}", f"open referral {second}",
    ]  # fmt: skip


# Proactive screening -------------------------------------------------------------------------


def test_a_disposal_scoring_at_the_threshold_raises_a_candidate_once(
    referral: ReferralService,
) -> None:
    closed = disposal(SUBJECT.nominal_id, "CR/TIER/1", category="sexual offence")

    assert consume(referral, referral.when_disposal_received_screen_it, closed) == []
    before = unchanged(referral)
    assert referral.when_disposal_received_screen_it(again(closed)) is None  # a rescan

    [raised] = published(referral, ProactiveCandidateIdentifiedV1)
    [raw] = payloads(referral, ProactiveCandidateIdentifiedV1)
    [coverage] = published(referral, ScreeningCoverageV1)
    assert raised.payload.suspect_nominal_id == SUBJECT.nominal_id
    assert is_sealed(raw["suspect_nominal_id"]) and raised.payload.score == 6
    assert raised.payload.rules_fired == [
        "offence category: sexual offence", "child victim: under 13",
    ]  # fmt: skip
    assert coverage.payload.earliest_disposed_on == closed.payload.disposed_on
    assert unchanged(referral) == before
    candidate = referral.get_candidate(raised.aggregate_id)
    assert (candidate["status"], candidate["rules_version"]) == ("identified", "2026-12-03")


def test_a_disposal_scoring_below_the_threshold_is_noted_and_raises_nothing(
    referral: ReferralService,
) -> None:
    adult = disposal(SUBJECT.nominal_id, "CR/TIER/2", category="theft", victim=VictimAgeBand.ADULT)

    assert referral.when_disposal_received_screen_it(adult) is None

    assert published(referral, ProactiveCandidateIdentifiedV1) == []
    assert len(published(referral, ScreeningCoverageV1)) == 1
    [noted] = referral.subject_access(SUBJECT.nominal_id)["disposals_screened"]
    assert noted == {
        "crime_reference": "CR/TIER/2", "disposed_on": adult.payload.disposed_on,
        "outcome_code": "15",
    }  # fmt: skip


def test_a_suspects_first_disposal_starts_their_history_and_their_record_in_one_event_each(
    referral: ReferralService,
) -> None:
    adult, today = VictimAgeBand.ADULT, dates.today()
    first = disposal(SUBJECT.nominal_id, "CR/TIER/5", category="theft", victim=adult,
                     disposed_on=today - timedelta(days=40))  # fmt: skip
    second = disposal(SUBJECT.nominal_id, "CR/TIER/6", category="exposure", victim=adult,
                      disposed_on=today - timedelta(days=9))  # fmt: skip

    assert consume(referral, referral.when_disposal_received_screen_it, first, second) == []

    history_id = SuspectDisposals.create_id(SUBJECT.nominal_id)
    assert kinds(stored(referral, history_id)) == [
        "SuspectDisposals.Started", "SuspectDisposals.DisposalNoted",
    ]  # fmt: skip
    record_id = SubjectRecord.create_id(SUBJECT.nominal_id)
    assert kinds(stored(referral, record_id)) == ["SubjectRecord.Started"]
    assert referral.get_review(record_id)["group"] == 3
    [raised] = published(referral, ProactiveCandidateIdentifiedV1)  # 2 + repeat 3: the first counts
    assert raised.payload.rules_fired[-1] == "repeat suspect: 1 earlier within 730 days"
    noted = referral.subject_access(SUBJECT.nominal_id)["disposals_screened"]
    assert [(n["crime_reference"], n["outcome_code"]) for n in noted] == [
        ("CR/TIER/5", "15"), ("CR/TIER/6", "15"),
    ]  # fmt: skip


def test_a_disposal_naming_no_suspect_or_with_an_outcome_not_screened_changes_nothing(
    referral: ReferralService,
) -> None:
    nobody = disposal(None, "CR/TIER/3")
    charged = disposal(SUBJECT.nominal_id, "CR/TIER/4", outcome_code="1")

    assert consume(referral, referral.when_disposal_received_screen_it, nobody, charged) == []

    assert log_size(referral) == 0 and messages(referral) == []


def candidate(referral: ReferralService) -> UUID:
    raised = referral.when_disposal_received_screen_it(disposal(SUBJECT.nominal_id, "CR/TIER/5"))
    assert raised is not None
    return raised


def test_a_candidate_promoted_becomes_a_referral_from_the_scan(referral: ReferralService) -> None:
    candidate_id = candidate(referral)
    with pytest.raises(CandidateIsAnotherPerson, match=f"is nominal {SUBJECT.nominal_id}, not"):
        referral.promote_candidate(candidate_id, person(2), OrderSought.SRO, "grounds", CASEWORKER)

    referral_id = referral.promote_candidate(
        candidate_id, SUBJECT, OrderSought.SRO, "Screened: two child victims", CASEWORKER
    )
    with pytest.raises(CandidateAlreadyDecided, match="already been promoted"):
        referral.promote_candidate(candidate_id, SUBJECT, OrderSought.SRO, "again", CASEWORKER)

    [event] = published(referral, ReferralReceivedV1)
    assert event.aggregate_id == referral_id and event.payload.source == "proactive scan"
    assert event.payload.district_reference == "SCAN-CR/TIER/5"
    assert referral.get_candidate(candidate_id)["referral_id"] == str(referral_id)
    assert referral.open_casework(SUBJECT.nominal_id) == [f"open referral {referral_id}"]


def test_a_candidate_dismissed_with_a_reason_is_not_promoted(referral: ReferralService) -> None:
    candidate_id = candidate(referral)

    referral.dismiss_candidate(candidate_id, DismissalReason.SUSPECT_ELIMINATED, "DNA", CASEWORKER)

    assert referral.get_candidate(candidate_id)["status"] == "dismissed"
    with pytest.raises(CandidateAlreadyDecided, match="already been dismissed"):
        referral.promote_candidate(candidate_id, SUBJECT, OrderSought.SRO, "x", CASEWORKER)


def test_published_screening_rules_are_adopted_once_and_screen_what_follows(
    referral: ReferralService,
) -> None:
    adult: dict[str, Any] = {"category": "sexual offence", "victim": VictimAgeBand.ADULT}  # 3
    stricter = {**packaged("screening-rules.yaml"), "version": "2026-12-01", "threshold": 3}
    rules = screening_rules_published(ScreeningRules.model_validate(stricter), "lower threshold")
    assert referral.when_disposal_received_screen_it(disposal("SYN-A", "CR/1", **adult)) is None

    adopt = referral.when_screening_rules_published_adopt_them
    assert consume(referral, adopt, rules) == []
    before = unchanged(referral)
    assert consume(referral, adopt, again(rules)) == []
    assert unchanged(referral) == before
    raised = referral.when_disposal_received_screen_it(disposal("SYN-B", "CR/2", **adult))

    assert raised is not None
    assert referral.get_candidate(raised)["rules_version"] == "2026-12-01"


# The person's record, from the application service's events ---------------------------------


def test_an_application_opened_takes_the_persons_referral_over_once(
    referral: ReferralService,
) -> None:
    referral_id, application_id = accepted(referral), uuid4()
    opened = application_opened(referral_id, application_id, SUBJECT.nominal_id)

    assert consume(referral, referral.when_application_opened_note_it, opened) == []
    before = unchanged(referral)
    assert consume(referral, referral.when_application_opened_note_it, again(opened)) == []

    assert referral.open_casework(SUBJECT.nominal_id) == [f"open application {application_id}"]
    assert unchanged(referral) == before


def test_an_application_decided_without_an_order_closes_and_one_still_going_does_not(
    referral: ReferralService,
) -> None:
    referral_id, application_id = accepted(referral), uuid4()
    opened = application_opened(referral_id, application_id, SUBJECT.nominal_id)
    referral.when_application_opened_note_it(opened)
    going = application_moved(referral_id, application_id, ApplicationStage.QUALITY_ASSURANCE)
    refused = application_moved(referral_id, application_id, ApplicationStage.DECIDED, "refused")

    assert consume(referral, referral.when_application_decided_close_it, going) == []
    still_open = referral.open_casework(SUBJECT.nominal_id)
    assert consume(referral, referral.when_application_decided_close_it, refused) == []

    assert still_open == [f"open application {application_id}"]
    assert referral.open_casework(SUBJECT.nominal_id) == []


def test_an_order_granted_goes_on_the_record_and_publishes_the_persons_screened_disposals_once(
    referral: ReferralService,
) -> None:
    for crime in ("CR/TIER/6", "CR/TIER/7"):
        referral.when_disposal_received_screen_it(disposal(SUBJECT.nominal_id, crime))
    assert published(referral, DisposalScreenedV1) == []  # nobody is under an order yet
    granted = order_granted("ORD-2026-TIER01", SUBJECT.nominal_id)

    assert consume(referral, referral.when_order_granted_note_it, granted) == []
    assert consume(referral, referral.when_order_granted_note_it, again(granted)) == []
    second = order_granted("ORD-2026-TIER02", SUBJECT.nominal_id)  # publishes none again
    assert consume(referral, referral.when_order_granted_note_it, second) == []
    referral.when_disposal_received_screen_it(disposal(SUBJECT.nominal_id, "CR/TIER/8"))

    screened = published(referral, DisposalScreenedV1)
    assert [e.payload.suspect_nominal_id for e in screened] == [SUBJECT.nominal_id] * 3
    assert all(is_sealed(p["suspect_nominal_id"]) for p in payloads(referral, DisposalScreenedV1))
    assert referral.open_casework(SUBJECT.nominal_id) == [
        "live order ORD-2026-TIER01", "live order ORD-2026-TIER02",
    ]  # fmt: skip


def test_an_order_expired_leaves_the_persons_record_once(referral: ReferralService) -> None:
    referral.when_order_granted_note_it(order_granted("ORD-2026-TIER01", SUBJECT.nominal_id))
    expired = order_expired("ORD-2026-TIER01", SUBJECT.nominal_id)

    assert consume(referral, referral.when_order_expired_note_it, expired) == []
    before = unchanged(referral)
    assert consume(referral, referral.when_order_expired_note_it, again(expired)) == []

    assert referral.open_casework(SUBJECT.nominal_id) == [] and unchanged(referral) == before


# The person's rights -------------------------------------------------------------------------


def test_a_person_with_an_order_in_force_or_open_casework_is_not_erased(
    referral: ReferralService,
) -> None:
    referral.when_order_granted_note_it(order_granted("ORD-2026-TIER01", SUBJECT.nominal_id))
    other = received(referral, person(2), "NOR-TIER-0002")

    with pytest.raises(SubjectHasOrderInForce, match="ORD-2026-TIER01"):
        referral.erase_subject(SUBJECT.nominal_id, "asked to", DPO)
    with pytest.raises(SubjectHasOpenCasework, match=f"open referral {other}"):
        referral.erase_subject(person(2).nominal_id, "asked to", DPO)
    with pytest.raises(NothingHeldAbout, match="no personal data is held"):
        referral.erase_subject(person(3).nominal_id, "asked to", DPO)
    assert referral.get_referral(other)["subject_nominal_id"] == person(2).nominal_id


def test_erasing_a_person_destroys_their_key_and_everything_sealed_with_it_reads_erased(
    referral: ReferralService, application: ApplicationService
) -> None:
    referral_id = declined(referral)
    opened = referral_accepted(SUBJECT)  # the application service holds them too
    application.when_referral_accepted_open_application(opened)
    application_id = application.application_for_referral(opened.payload.referral_id)

    key_id = referral.erase_subject(SUBJECT.nominal_id, "no longer needed (MoPI)", DPO)

    assert referral.personal.keys.find(SUBJECT.nominal_id) is None and key_id is not None
    assert referral.get_referral(referral_id)["subject_nominal_id"] == ERASED
    assert application.get_application(application_id)["subject"]["name"] == ERASED
    [declining] = published(referral, ReferralStatusChangedV1)
    assert declining.payload.reason == ERASED  # the copy on the wire too
    assert referral.subject_access(SUBJECT.nominal_id)["erased"]["by"] == "data-protection:dpo-1"
    with pytest.raises(PersonalDataErased):
        referral.rectify_subject(SUBJECT.nominal_id, "Hollis Grisdale", None, "typo", DPO)


def test_an_order_a_court_makes_on_conviction_against_a_person_erased_starts_their_record_afresh(
    referral: ReferralService,
) -> None:
    declined(referral)
    referral.erase_subject(SUBJECT.nominal_id, "no longer needed (MoPI)", DPO)
    granted = order_granted(nominal=SUBJECT.nominal_id)  # no referral of ours came before it

    assert consume(referral, referral.when_order_granted_note_it, granted) == []

    held = referral.subject_access(SUBJECT.nominal_id)
    assert (held["erased"], held["orders"]) == (None, [granted.payload.order_reference])
    assert referral.personal.keys.find(SUBJECT.nominal_id) is not None  # a new key seals them


def test_rectifying_a_person_corrects_every_referral_naming_them_and_publishes_it(
    referral: ReferralService,
) -> None:
    first, second = received(referral), received(referral, SUBJECT, "NOR-TIER-0002")
    born = SUBJECT.date_of_birth - timedelta(days=365)

    corrected = referral.rectify_subject(SUBJECT.nominal_id, None, born, "year mistyped", DPO)
    with pytest.raises(NothingToRectify, match="those already recorded"):
        referral.rectify_subject(SUBJECT.nominal_id, None, born, "again", DPO)
    with pytest.raises(NothingHeldAbout):
        referral.rectify_subject(person(4).nominal_id, "Somebody Else", None, "no", DPO)

    assert corrected == [first, second]
    events = published(referral, ReferralSubjectRectifiedV1)
    assert [e.payload.subject.date_of_birth for e in events] == [born, born]
    assert [e.payload.reason for e in events] == ["year mistyped"] * 2
    assert is_sealed(payloads(referral, ReferralSubjectRectifiedV1)[0]["subject"]["date_of_birth"])


def test_a_suspect_erased_and_named_in_a_new_disposal_is_screened_afresh(
    referral: ReferralService,
) -> None:
    screen = referral.when_disposal_received_screen_it
    assert consume(referral, screen, disposal(SUBJECT.nominal_id, "CR/TIER/1")) == []
    referral.erase_subject(SUBJECT.nominal_id, "disposal under MoPI review (synthetic)", DPO)

    assert consume(referral, screen, disposal(SUBJECT.nominal_id, "CR/TIER/2")) == []

    held = referral.subject_access(SUBJECT.nominal_id)
    assert [d["crime_reference"] for d in held["disposals_screened"]] == ["CR/TIER/2"]


def test_a_subject_access_gathers_all_that_is_held_about_a_person(
    referral: ReferralService,
) -> None:
    referral_id = accepted(referral)
    referral.when_disposal_received_screen_it(disposal(SUBJECT.nominal_id, "CR/TIER/9"))

    held = referral.subject_access(SUBJECT.nominal_id)
    with pytest.raises(NothingHeldAbout):
        referral.subject_access(person(5).nominal_id)

    [as_held] = held["referrals"]
    assert as_held["id"] == str(referral_id) and as_held["subject"]["name"] == SUBJECT.name
    assert as_held["grounds"] == referred().grounds and held["erased"] is None
    assert [d["crime_reference"] for d in held["disposals_screened"]] == ["CR/TIER/9"]
    assert held["subject_key"] == str(SubjectRecord.create_id(SUBJECT.nominal_id))
    assert held["review"]["group"] == 3


class CandidatesTable:
    """Stands in for the service's list of candidates: those of a crime reference."""

    def __init__(self, referral: ReferralService) -> None:
        self.referral = referral

    async def fetch(self, sql: str, status: str | None, crime: str, *_: Any) -> list[Any]:
        raised: list[Candidate] = [self.referral.repository.get(candidate_id) for candidate_id
                  in aggregates_with(self.referral, Candidate.Identified)]  # fmt: skip
        return [{"candidate_id": c.id, "district": c.district, "crime_reference": c.crime_reference}
                for c in raised if c.crime_reference == crime]  # fmt: skip


async def test_a_persons_export_holds_their_candidates_not_another_suspect_s_of_the_same_crime(
    referral: ReferralService,
) -> None:
    """A crime may name more than one suspect: once the other is erased, their candidate no
    longer names them, but it is still not this person's."""
    both = "CR/TIER/SHARED"
    for suspect in (SUBJECT, person(2)):
        referral.when_disposal_received_screen_it(disposal(suspect.nominal_id, both))
    referral.erase_subject(person(2).nominal_id, "asked to", DPO)

    async with http_edge(referral, pool=CandidatesTable(referral)) as edge:
        response = await edge.post(
            "/subjects/access", json={"nominal_id": SUBJECT.nominal_id}, headers={"X-Actor": "x"}
        )

    assert response.status_code == 200, response.text
    [candidate] = response.json()["candidates"]
    assert (candidate["crime_reference"], candidate["suspect_nominal_id"]) == (
        both,
        SUBJECT.nominal_id,
    )


# MoPI review ---------------------------------------------------------------------------------


def assert_first_review(referral: ReferralService, record_id: UUID, clock: Clock) -> None:
    """Of a record with nothing open: group 3, due six years on, not due yet."""
    review = referral.get_review(record_id)
    assert (review["group"], review["due"]) == (3, False)
    assert review["due_on"] == clock.today().replace(year=clock.today().year + 6)


def test_a_new_persons_record_starts_with_their_referral_and_first_review_in_the_one_event(
    referral: ReferralService, clock: Clock
) -> None:
    first = declined(referral)
    record_id = SubjectRecord.create_id(SUBJECT.nominal_id)
    second = received(referral, reference="NOR-TIER-0002")

    assert_first_review(referral, record_id, clock)
    assert kinds(stored(referral, record_id)) == [
        "SubjectRecord.Started", "SubjectRecord.ReferralClosed", "SubjectRecord.ReferralOpened",
    ]  # fmt: skip
    held = referral.subject_access(SUBJECT.nominal_id)["referrals"]
    assert [r["id"] for r in held] == [str(first), str(second)]
    assert referral.get_referral(first)["links"] == []  # (not linked to itself)
    assert referral.get_referral(second)["links"] == []  # the first is closed


def test_a_record_kept_before_reviews_were_dated_is_given_its_first_review_once(
    referral: ReferralService, clock: Clock
) -> None:
    kept = SubjectRecord(subject_nominal_id=SUBJECT.nominal_id)
    referral.save(kept)  # as a build before MoPI reviews saved it

    referral.schedule_first_review(kept.id)
    referral.schedule_first_review(kept.id)

    assert_first_review(referral, kept.id, clock)
    assert kinds(stored(referral, kept.id)) == [
        "SubjectRecord.Started", "SubjectRecord.ReviewScheduled",
    ]  # fmt: skip


def test_a_record_is_queued_for_review_once_its_time_has_come(
    referral: ReferralService, clock: Clock
) -> None:
    declined(referral)
    record_id = SubjectRecord.create_id(SUBJECT.nominal_id)

    early = referral.queue_review_if_due(record_id)
    clock.move_on(days=YEARS_6)
    due = referral.queue_review_if_due(record_id)
    queued_again = referral.queue_review_if_due(record_id)

    assert (early, due, queued_again) == (False, True, False)
    assert referral.get_review(record_id)["due"] is True


def test_a_reviewer_retains_a_due_record_until_a_later_review(
    referral: ReferralService, clock: Clock
) -> None:
    declined(referral)
    record_id = SubjectRecord.create_id(SUBJECT.nominal_id)
    with pytest.raises(ReviewNotDue, match="not due for review"):
        referral.retain_on_review(record_id, "still a risk", clock.today(), CASEWORKER)
    clock.move_on(days=YEARS_6)
    referral.queue_review_if_due(record_id)
    next_review = clock.today() + timedelta(days=365)

    with pytest.raises(NextReviewNotAfterToday):
        referral.retain_on_review(record_id, "still a risk", clock.today(), CASEWORKER)
    referral.retain_on_review(record_id, "intelligence of contact", next_review, CASEWORKER)

    review = referral.get_review(record_id)
    assert (review["due"], review["due_on"]) == (False, next_review)
    retained = referral.subject_access(SUBJECT.nominal_id)["review"]["retained"]
    assert [(r["by"], r["reason"]) for r in retained] == [
        ("caseworker:cw-1", "intelligence of contact"),
    ]  # fmt: skip


def test_a_reviewer_disposes_of_a_due_record_and_the_persons_key_with_it(
    referral: ReferralService, clock: Clock
) -> None:
    referral_id = declined(referral)
    record_id = SubjectRecord.create_id(SUBJECT.nominal_id)
    clock.move_on(days=YEARS_6)
    referral.queue_review_if_due(record_id)

    key_id = referral.dispose_on_review(record_id, "no longer necessary", CASEWORKER)

    assert key_id is not None and referral.personal.keys.find(SUBJECT.nominal_id) is None
    assert referral.get_review(record_id)["disposed_at"] is not None
    assert referral.get_referral(referral_id)["subject_nominal_id"] == ERASED
    assert Referral.create_id("north", "NOR-TIER-0001") == referral_id
