"""Alert events, published so auditors can replay what every team was told."""

from eventsourcing.domain import DomainEventProtocol

from schemas.envelope import Envelope, Payload
from schemas.notification import (
    AlertDelivered,
    AlertDeliveredV1,
    AlertFailed,
    AlertFailedV1,
    AlertRequested,
    AlertRequestedV1,
)
from services.notification.application import NotificationService
from services.notification.domain import Alert


def to_wire(
    service: NotificationService, event: DomainEventProtocol
) -> tuple[type[Envelope], Payload] | None:
    if isinstance(event, Alert.Requested):
        return AlertRequestedV1, AlertRequested(
            team=event.team,  # type: ignore[attr-defined]
            kind=event.kind,  # type: ignore[attr-defined]
            order_reference=event.order_reference,  # type: ignore[attr-defined]
            trigger_event_id=event.trigger_event_id,  # type: ignore[attr-defined]
        )
    if isinstance(event, Alert.Delivered | Alert.Failed):
        alert: Alert = service.repository.get(event.originator_id, version=1)
        common = {"team": alert.team, "channel": event.channel, "attempts": event.attempts}  # type: ignore[attr-defined]
        if isinstance(event, Alert.Delivered):
            return AlertDeliveredV1, AlertDelivered(**common)
        return AlertFailedV1, AlertFailed(**common, reason=event.reason)  # type: ignore[attr-defined]
    return None
