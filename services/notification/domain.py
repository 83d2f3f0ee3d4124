"""Alerts to MOSOVO teams, each keyed by the event it is about, so none is raised twice.

An alert is delivered over the team's channels, or fails and escalates to the team's
fallback; a delivered alert that nobody acknowledges in time escalates too, once.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.refusals import CommandRejected
from schemas.trace import Trace


class AlertStatus(StrEnum):
    REQUESTED = "requested"
    DELIVERED = "delivered"
    FAILED = "failed"


class AlertAlreadySettled(CommandRejected):
    def __init__(self, status: AlertStatus) -> None:
        super().__init__(f"the alert is already {status}")


class AlertAlreadyEscalated(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the alert has already been escalated")


class AlertNotEscalated(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the alert has not been escalated")


class AlertNotDueForEscalation(CommandRejected):
    def __init__(self, why: str) -> None:
        super().__init__(f"the alert is not due for escalation: {why}")


class AlertNotYetReceived(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the alert has not reached the team, so it cannot be acknowledged")


class AlertAlreadyAcknowledged(CommandRejected):
    def __init__(self, by: str) -> None:
        super().__init__(f"the alert was already acknowledged by {by}")


class Alert(Aggregate):
    class Requested(Aggregate.Created):
        team: str
        kind: str
        order_reference: str
        link: str
        trigger_event_id: UUID
        trace: Trace

    class Delivered(Aggregate.Event):
        channel: str
        attempts: int
        at: datetime
        trace: Trace

    class Failed(Aggregate.Event):
        channel: str
        attempts: int
        reason: str
        at: datetime
        trace: Trace

    class Escalated(Aggregate.Event):
        reason: str
        at: datetime
        trace: Trace

    class EscalationSent(Aggregate.Event):
        channel: str
        attempts: int
        at: datetime
        trace: Trace

    class EscalationFailed(Aggregate.Event):
        channel: str
        attempts: int
        reason: str
        at: datetime
        trace: Trace

    class Acknowledged(Aggregate.Event):
        at: datetime
        trace: Trace

    @staticmethod
    def create_id(trigger_event_id: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:alert/{trigger_event_id}")

    @event(Requested)
    def __init__(
        self,
        team: str,
        kind: str,
        order_reference: str,
        link: str,
        trigger_event_id: UUID,
        trace: Trace,
    ) -> None:
        self.team = team
        self.kind = kind
        self.order_reference = order_reference
        self.link = link
        self.trigger_event_id = trigger_event_id
        self.correlation_id = trace.correlation_id
        self.status = AlertStatus.REQUESTED
        self.delivered_at: datetime | None = None
        self.escalated_because: str | None = None
        self.escalation_sent = False
        self.escalation_failure: str | None = None
        self.acknowledged_by: str | None = None

    @property
    def escalation_settled(self) -> bool:
        """The escalation went out, or every channel of the fallback failed."""
        return self.escalation_sent or self.escalation_failure is not None

    def mark_delivered(self, channel: str, attempts: int, at: datetime, trace: Trace) -> None:
        self._require_pending()
        self._delivered(channel, attempts, at, trace)

    def mark_failed(
        self, channel: str, attempts: int, reason: str, at: datetime, trace: Trace
    ) -> None:
        """Every channel failed: the alert shows as failed and escalates to the fallback."""
        self._require_pending()
        self._failed(channel, attempts, reason, at, trace)
        self._escalated(f"delivery failed: {reason}", at, trace)

    def escalate_if_unacknowledged(self, timeout: timedelta, now: datetime, trace: Trace) -> None:
        if self.acknowledged_by is not None:
            raise AlertNotDueForEscalation("it was acknowledged")
        if self.escalated_because is not None:
            raise AlertAlreadyEscalated
        if self.delivered_at is None or now - self.delivered_at < timeout:
            raise AlertNotDueForEscalation(f"not yet {timeout} since delivery")
        self._escalated(f"not acknowledged within {timeout}", now, trace)

    def mark_escalation_sent(self, channel: str, attempts: int, at: datetime, trace: Trace) -> None:
        self._require_escalation_pending()
        self._escalation_sent(channel, attempts, at, trace)

    def mark_escalation_failed(
        self, channel: str, attempts: int, reason: str, at: datetime, trace: Trace
    ) -> None:
        self._require_escalation_pending()
        self._escalation_failed(channel, attempts, reason, at, trace)

    def acknowledge(self, at: datetime, trace: Trace) -> None:
        if self.acknowledged_by is not None:
            raise AlertAlreadyAcknowledged(self.acknowledged_by)
        if self.status is not AlertStatus.DELIVERED and not self.escalation_sent:
            raise AlertNotYetReceived
        self._acknowledged(at, trace)

    def _require_pending(self) -> None:
        if self.status is not AlertStatus.REQUESTED:
            raise AlertAlreadySettled(self.status)

    def _require_escalation_pending(self) -> None:
        if self.escalated_because is None:
            raise AlertNotEscalated
        if self.escalation_settled:
            raise AlertAlreadyEscalated

    @event(Delivered)
    def _delivered(self, channel: str, attempts: int, at: datetime, trace: Trace) -> None:
        self.status = AlertStatus.DELIVERED
        self.attempts = attempts
        self.delivered_at = at

    @event(Failed)
    def _failed(self, channel: str, attempts: int, reason: str, at: datetime, trace: Trace) -> None:
        self.status = AlertStatus.FAILED
        self.attempts = attempts
        self.failure = reason

    @event(Escalated)
    def _escalated(self, reason: str, at: datetime, trace: Trace) -> None:
        self.escalated_because = reason

    @event(EscalationSent)
    def _escalation_sent(self, channel: str, attempts: int, at: datetime, trace: Trace) -> None:
        self.escalation_sent = True

    @event(EscalationFailed)
    def _escalation_failed(
        self, channel: str, attempts: int, reason: str, at: datetime, trace: Trace
    ) -> None:
        self.escalation_failure = reason

    @event(Acknowledged)
    def _acknowledged(self, at: datetime, trace: Trace) -> None:
        self.acknowledged_by = trace.actor
