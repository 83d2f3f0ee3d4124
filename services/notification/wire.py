"""Alert events, published so auditors can replay what every team was told, and when."""

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
    if not isinstance(event, Alert.Event):
        return None  # e.g. the team directory adopted: the notifier's own business
    team = _team(service, event)
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


def _team(service: NotificationService, event: DomainEventProtocol) -> str:
    alert: Alert = service.repository.get(event.originator_id, version=1)
    return alert.team
