"""Alert events, published so auditors can replay what every team was told, and when."""

from typing import Any, cast

from eventsourcing.domain import DomainEventProtocol

from schemas.envelope import Envelope, Payload
from schemas.notification import (
    AlertAcknowledged,
    AlertAcknowledgedV1,
    AlertDelivered,
    AlertDeliveredV1,
    AlertEscalated,
    AlertEscalatedV1,
    AlertFailed,
    AlertFailedV1,
    AlertRequested,
    AlertRequestedV1,
)
from services.notification.domain import Alert


def to_wire(event: DomainEventProtocol, aggregate: Any) -> tuple[type[Envelope], Payload] | None:
    """The wire event of a stored event, made from its aggregate as it stood just after it."""
    if isinstance(event, Alert.Requested):
        return AlertRequestedV1, AlertRequested(
            team=event.team,
            kind=event.kind,
            order_reference=event.order_reference,
            trigger_event_id=event.trigger_event_id,
        )
    if not isinstance(event, Alert.Event):
        return None  # e.g. the team directory adopted: the notifier's own business
    team = cast(Alert, aggregate).team
    if isinstance(event, Alert.Delivered | Alert.EscalationSent):
        return AlertDeliveredV1, AlertDelivered(
            team=team,
            channel=event.channel,
            attempts=event.attempts,
            escalation=isinstance(event, Alert.EscalationSent),
        )
    if isinstance(event, Alert.Failed | Alert.EscalationFailed):
        return AlertFailedV1, AlertFailed(
            team=team,
            channel=event.channel,
            attempts=event.attempts,
            reason=event.reason,
            escalation=isinstance(event, Alert.EscalationFailed),
        )
    if isinstance(event, Alert.Escalated):
        return AlertEscalatedV1, AlertEscalated(team=team, reason=event.reason)
    if isinstance(event, Alert.Acknowledged):
        return AlertAcknowledgedV1, AlertAcknowledged(team=team)
    return None
