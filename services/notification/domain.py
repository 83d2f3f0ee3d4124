"""Alerts to MOSOVO teams, each keyed by the event it is about, so none is raised twice."""

from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from plumbing.errors import CommandRejected
from plumbing.eventstore import Trace


class AlertStatus(StrEnum):
    REQUESTED = "requested"
    DELIVERED = "delivered"
    FAILED = "failed"


class AlertAlreadySettled(CommandRejected):
    def __init__(self, status: AlertStatus) -> None:
        super().__init__(f"the alert is already {status}")


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
        self.status = AlertStatus.REQUESTED

    def mark_delivered(self, channel: str, attempts: int, at: datetime, trace: Trace) -> None:
        self._require_pending()
        self._delivered(channel, attempts, at, trace)

    def mark_failed(
        self, channel: str, attempts: int, reason: str, at: datetime, trace: Trace
    ) -> None:
        self._require_pending()
        self._failed(channel, attempts, reason, at, trace)

    def _require_pending(self) -> None:
        if self.status is not AlertStatus.REQUESTED:
            raise AlertAlreadySettled(self.status)

    @event(Delivered)
    def _delivered(self, channel: str, attempts: int, at: datetime, trace: Trace) -> None:
        self.status = AlertStatus.DELIVERED
        self.attempts = attempts
        self.settled_at = at

    @event(Failed)
    def _failed(self, channel: str, attempts: int, reason: str, at: datetime, trace: Trace) -> None:
        self.status = AlertStatus.FAILED
        self.attempts = attempts
        self.failure = reason
        self.settled_at = at
