"""Which referral events other services see, and in what shape."""

from eventsourcing.domain import DomainEventProtocol

from schemas.common import OrderSought
from schemas.common import Subject as WireSubject
from schemas.envelope import Envelope, Payload
from schemas.referral import (
    ProactiveCandidateIdentified,
    ProactiveCandidateIdentifiedV1,
    ReferralAccepted,
    ReferralAcceptedV1,
    ReferralReceived,
    ReferralReceivedV1,
)
from services.referral.application import ReferralService
from services.referral.domain import Candidate, Referral


def to_wire(
    service: ReferralService, event: DomainEventProtocol
) -> tuple[type[Envelope], Payload] | None:
    if isinstance(event, Referral.Received):
        return ReferralReceivedV1, ReferralReceived(
            district=event.district,
            district_reference=event.district_reference,
            source=event.source,
            order_sought=OrderSought(event.order_sought),
        )
    if isinstance(event, Referral.Accepted):
        referral: Referral = service.repository.get(
            event.originator_id, version=event.originator_version
        )
        return ReferralAcceptedV1, ReferralAccepted(
            referral_id=referral.id,
            district=referral.district,
            subject=WireSubject(**vars(referral.subject)),
            order_sought=OrderSought(referral.order_sought),
            grounds=referral.grounds,
            crime_references=referral.crime_references,
            accepted_by=event.trace.actor,
        )
    if isinstance(event, Candidate.Identified):
        return ProactiveCandidateIdentifiedV1, ProactiveCandidateIdentified(
            district=event.district,
            crime_reference=event.crime_reference,
            suspect_nominal_id=event.suspect_nominal_id,
            score=event.score,
            rules_fired=event.rules_fired,
            rules_version=event.rules_version,
        )
    return None
