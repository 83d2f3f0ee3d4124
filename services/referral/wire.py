"""Which referral events other services see, and in what shape."""

from eventsourcing.domain import DomainEventProtocol

from plumbing.outbox import Make, Wire
from schemas.common import OrderSought
from schemas.common import Subject as WireSubject
from schemas.referral import (
    DisposalScreened,
    DisposalScreenedV1,
    ProactiveCandidateIdentified,
    ProactiveCandidateIdentifiedV1,
    ReferralAccepted,
    ReferralAcceptedV1,
    ReferralReceived,
    ReferralReceivedV1,
    ReferralStatus,
    ReferralStatusChanged,
    ReferralStatusChangedV1,
    ReferralSubjectRectified,
    ReferralSubjectRectifiedV1,
    ScreeningCoverage,
    ScreeningCoverageV1,
)
from services.referral.domain import Candidate, Referral, ScreenedDisposal
from services.referral.domain import ScreeningCoverage as Coverage

STATUS_CHANGES = (
    Referral.ReviewStarted,
    Referral.ReturnedForInformation,
    Referral.Resubmitted,
    Referral.Assigned,
    Referral.Reassigned,
    Referral.Declined,
)


def _reason(event: DomainEventProtocol) -> str | None:
    if isinstance(event, Referral.Declined):
        return f"{event.reason}: {event.detail}"
    if isinstance(event, Referral.Reassigned):
        return event.reason
    if isinstance(event, Referral.ReturnedForInformation):
        return "; ".join(event.questions)
    return None


def received(event: Referral.Received, referral: Referral) -> Wire:
    return ReferralReceivedV1, ReferralReceived(
        district=event.district,
        district_reference=event.district_reference,
        source=event.source,
        order_sought=OrderSought(event.order_sought),
        referred_on=event.referred_on,
    )


def status_changed(event: DomainEventProtocol, changed: Referral) -> Wire:
    return ReferralStatusChangedV1, ReferralStatusChanged(
        district=changed.district,
        status=ReferralStatus(changed.status),
        caseworker=changed.caseworker,
        reason=_reason(event),
    )


def accepted(event: Referral.Accepted, referral: Referral) -> Wire:
    return ReferralAcceptedV1, ReferralAccepted(
        referral_id=referral.id,
        district=referral.district,
        subject=WireSubject(**vars(referral.subject)),
        order_sought=OrderSought(referral.order_sought),
        grounds=referral.grounds,
        crime_references=referral.crime_references,
        accepted_by=event.trace.actor,
    )


def subject_rectified(event: Referral.SubjectRectified, referral: Referral) -> Wire:
    return ReferralSubjectRectifiedV1, ReferralSubjectRectified(
        referral_id=referral.id,
        district=referral.district,
        subject=WireSubject(**vars(event.subject)),
        reason=event.reason,
    )


def candidate_identified(event: Candidate.Identified, candidate: Candidate) -> Wire:
    return ProactiveCandidateIdentifiedV1, ProactiveCandidateIdentified(
        district=event.district,
        crime_reference=event.crime_reference,
        suspect_nominal_id=event.suspect_nominal_id,
        score=event.score,
        rules_fired=event.rules_fired,
        rules_version=event.rules_version,
    )


def disposal_screened(event: ScreenedDisposal.Screened, disposal: ScreenedDisposal) -> Wire:
    return DisposalScreenedV1, DisposalScreened(
        suspect_nominal_id=event.suspect_nominal_id,
        outcome_code=event.outcome_code,
        disposed_on=event.disposed_on,
    )


def coverage(event: DomainEventProtocol, covered: Coverage) -> Wire:
    return ScreeningCoverageV1, ScreeningCoverage(earliest_disposed_on=covered.earliest)


# The wire event of each kind of stored event others see, made from the event and its
# aggregate as it stood just after it
WIRE: dict[type, Make] = {
    Referral.Received: received,
    **dict.fromkeys(STATUS_CHANGES, status_changed),
    Referral.Accepted: accepted,
    Referral.SubjectRectified: subject_rectified,
    Candidate.Identified: candidate_identified,
    ScreenedDisposal.Screened: disposal_screened,
    Coverage.Began: coverage,
    Coverage.ReachedBack: coverage,
}
