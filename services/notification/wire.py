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
            team=event.team,
            kind=event.kind,
            order_reference=event.order_reference,
            trigger_event_id=event.trigger_event_id,
        )
    if isinstance(event, Alert.Delivered):
        team = _team(service, event)
        return AlertDeliveredV1, AlertDelivered(
            team=team, channel=event.channel, attempts=event.attempts
        )
    if isinstance(event, Alert.Failed):
        team = _team(service, event)
        return AlertFailedV1, AlertFailed(
            team=team, channel=event.channel, attempts=event.attempts, reason=event.reason
        )
    return None


def _team(service: NotificationService, event: DomainEventProtocol) -> str:
    alert: Alert = service.repository.get(event.originator_id, version=1)
    return alert.team
