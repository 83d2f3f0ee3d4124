"""The referral service layer: each method loads, calls one aggregate method, saves."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from plumbing.errors import NotFound
from plumbing.eventstore import EventSourcedService, Trace
from schemas.district import DistrictReferral, DistrictReferralV1
from services.referral.domain import DeclineReason, Referral, Subject


class ReferralNotFound(NotFound):
    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no referral {referral_id}")


class ReferralService(EventSourcedService):
    name = "referral"
    value_types = (Subject,)

    def receive_referral(self, referral: DistrictReferral, source: str, trace: Trace) -> UUID:
        """Record a referral; the same district reference again returns the same referral."""
        referral_id = Referral.create_id(referral.district, referral.district_reference)
        if self._exists(referral_id):
            return referral_id
        subject = Subject(**referral.subject.model_dump())
        aggregate = Referral(
            district=referral.district,
            district_reference=referral.district_reference,
            source=source,
            referring_officer=referral.referring_officer,
            subject=subject,
            order_sought=referral.order_sought.value,
            grounds=referral.grounds,
            crime_references=list(referral.crime_references),
            previous_convictions=list(referral.previous_convictions),
            received_at=datetime.now(UTC),
            trace=trace,
        )
        self.save_new(aggregate)
        return referral_id

    def when_district_referral_received_record_it(self, envelope: DistrictReferralV1) -> UUID:
        trace = Trace.caused_by(envelope)
        return self.receive_referral(envelope.payload, source=envelope.producer, trace=trace)

    def start_review(self, referral_id: UUID, trace: Trace) -> None:
        referral = self._get(referral_id)
        referral.start_review(datetime.now(UTC), trace)
        self.save(referral)

    def accept_referral(self, referral_id: UUID, trace: Trace) -> None:
        referral = self._get(referral_id)
        referral.accept(datetime.now(UTC), trace)
        self.save(referral)

    def decline_referral(
        self, referral_id: UUID, reason: DeclineReason, detail: str, trace: Trace
    ) -> None:
        referral = self._get(referral_id)
        referral.decline(reason, detail, datetime.now(UTC), trace)
        self.save(referral)

    def referral_for(self, district: str, district_reference: str) -> UUID:
        referral_id = Referral.create_id(district, district_reference)
        if not self._exists(referral_id):
            raise ReferralNotFound(referral_id)
        return referral_id

    def get_referral(self, referral_id: UUID) -> dict[str, Any]:
        referral = self._get(referral_id)
        return {
            "id": str(referral.id),
            "version": referral.version,
            "district": referral.district,
            "district_reference": referral.district_reference,
            "status": referral.status.value,
            "order_sought": referral.order_sought,
            "subject_nominal_id": referral.subject.nominal_id,
            "history": [
                {"status": s.value, "by": by, "at": at.isoformat()}
                for s, by, at in referral.history
            ],
        }

    def _get(self, referral_id: UUID) -> Referral:
        return self.load(referral_id, ReferralNotFound(referral_id))

    def _exists(self, referral_id: UUID) -> bool:
        return referral_id in self.repository
