"""Which breach-service events other services see, and in what shape."""

from plumbing.outbox import Make, Wire
from schemas.breach import (
    BreachOutcome,
    BreachOutcomeRecorded,
    BreachOutcomeRecordedV1,
    BreachRecorded,
    BreachRecordedV1,
)
from services.breach.domain import Breach


def recorded(event: Breach.Recorded, breach: Breach) -> Wire:
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


def outcome_recorded(event: Breach.OutcomeRecorded, breach: Breach) -> Wire:
    return BreachOutcomeRecordedV1, BreachOutcomeRecorded(
        order_reference=breach.order_reference,
        order_id=breach.order_id,
        outcome=BreachOutcome(event.outcome),
        sentence=event.sentence,
    )


# The wire event of each kind of stored event others see
WIRE: dict[type, Make] = {Breach.Recorded: recorded, Breach.OutcomeRecorded: outcome_recorded}
