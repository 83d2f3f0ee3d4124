"""Which breach-service events other services see, and in what shape."""

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from schemas.breach import (
    BreachOutcome,
    BreachOutcomeRecorded,
    BreachOutcomeRecordedV1,
    BreachRecorded,
    BreachRecordedV1,
)
from schemas.envelope import Envelope, Payload
from services.breach.domain import Breach


def to_wire(event: DomainEventProtocol, aggregate: Any) -> tuple[type[Envelope], Payload] | None:
    """The wire event of a stored event, made from its aggregate as it stood just after it."""
    if isinstance(event, Breach.Recorded):
        breach: Breach = aggregate
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
        recorded: Breach = aggregate
        return BreachOutcomeRecordedV1, BreachOutcomeRecorded(
            order_reference=recorded.order_reference,
            outcome=BreachOutcome(event.outcome),
            sentence=event.sentence,
        )
    return None
