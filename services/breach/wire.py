"""Which breach-service events other services see, and in what shape."""

from eventsourcing.domain import DomainEventProtocol

from schemas.breach import (
    BreachOutcome,
    BreachOutcomeRecorded,
    BreachOutcomeRecordedV1,
    BreachRecorded,
    BreachRecordedV1,
)
from schemas.envelope import Envelope, Payload
from services.breach.application import BreachService
from services.breach.domain import Breach


def to_wire(
    service: BreachService, event: DomainEventProtocol
) -> tuple[type[Envelope], Payload] | None:
    if isinstance(event, Breach.Recorded):
        breach: Breach = service.repository.get(event.originator_id, version=1)
        return BreachRecordedV1, BreachRecorded(
            order_id=breach.order_id,
            order_reference=breach.order_reference,
            team=breach.team,
            district=breach.district,
            report_reference=breach.report_reference,
            occurred_at=breach.occurred_at,
            condition_breached=breach.condition_breached,
            breach_number=breach.breach_number,
            repeat=breach.repeat,
        )
    if isinstance(event, Breach.OutcomeRecorded):
        recorded: Breach = service.repository.get(event.originator_id, version=1)
        return BreachOutcomeRecordedV1, BreachOutcomeRecorded(
            order_reference=recorded.order_reference,
            outcome=BreachOutcome(event.outcome),
            sentence=event.sentence,
        )
    return None
