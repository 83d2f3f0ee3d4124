"""Alert events, published so auditors can replay what every team was told, and when."""

from typing import Any

from plumbing.outbox import Make, Wire
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


def requested(event: Alert.Requested, alert: Alert) -> Wire:
    return AlertRequestedV1, AlertRequested(
        team=event.team,
        kind=event.kind,
        order_reference=event.order_reference,
        trigger_event_id=event.trigger_event_id,
    )


def delivered(event: Any, alert: Alert) -> Wire:
    return AlertDeliveredV1, AlertDelivered(
        team=alert.team,
        channel=event.channel,
        attempts=event.attempts,
        escalation=isinstance(event, Alert.EscalationSent),
    )


def failed(event: Any, alert: Alert) -> Wire:
    return AlertFailedV1, AlertFailed(
        team=alert.team,
        channel=event.channel,
        attempts=event.attempts,
        reason=event.reason,
        escalation=isinstance(event, Alert.EscalationFailed),
    )


def escalated(event: Alert.Escalated, alert: Alert) -> Wire:
    return AlertEscalatedV1, AlertEscalated(team=alert.team, reason=event.reason)


def acknowledged(event: Alert.Acknowledged, alert: Alert) -> Wire:
    return AlertAcknowledgedV1, AlertAcknowledged(team=alert.team)


# Each step of an alert (the team directory adopted is the notifier's own business)
WIRE: dict[type, Make] = {
    Alert.Requested: requested,
    Alert.Delivered: delivered,
    Alert.EscalationSent: delivered,
    Alert.Failed: failed,
    Alert.EscalationFailed: failed,
    Alert.Escalated: escalated,
    Alert.Acknowledged: acknowledged,
}
