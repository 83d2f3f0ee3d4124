"""The notification service layer: alerts requested from upstream events, then delivered."""

from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.domain import DomainEventProtocol

from plumbing.errors import CommandRejected, NotFound
from plumbing.eventstore import EventSourcedService, Trace
from plumbing.teams import TeamDirectory
from schemas.application import OrderAllocatedV1
from schemas.breach import BreachRecordedV1
from services.notification.channels import Delivery, deliver
from services.notification.domain import Alert, AlertStatus

DISPATCHER = "dispatch:alerts"
ACTOR = "service:notification"


class NoTeamToAlert(CommandRejected):
    def __init__(self, team_or_district: str) -> None:
        super().__init__(f"the team directory lists no MOSOVO team for {team_or_district!r}")


class NotificationService(EventSourcedService):
    name = "notification"

    @cached_property
    def teams(self) -> TeamDirectory:
        return TeamDirectory.load(self.settings.team_directory)

    def when_order_allocated_alert_team(self, envelope: OrderAllocatedV1) -> None:
        allocated = envelope.payload
        self._request_alert(envelope, allocated.team, "order allocated", allocated.order_reference)

    def when_breach_recorded_alert_team(self, envelope: BreachRecordedV1) -> None:
        breach = envelope.payload
        team = breach.team or self.teams.team_for_district(breach.district)
        if team is None:
            raise NoTeamToAlert(breach.district)
        kind = f"repeat breach (number {breach.breach_number})" if breach.repeat else "breach"
        self._request_alert(envelope, team, kind, breach.order_reference)

    def _request_alert(
        self, envelope: OrderAllocatedV1 | BreachRecordedV1, team: str, kind: str, reference: str
    ) -> None:
        alert_id = Alert.create_id(envelope.event_id)
        if alert_id in self.repository or self.already_processed(
            envelope.producer, envelope.sequence
        ):
            return
        if team not in self.teams.teams:
            raise NoTeamToAlert(team)
        alert = Alert(
            team=team,
            kind=kind,
            order_reference=reference,
            link=f"{self.settings.public_base_url}/orders/{reference}",
            trigger_event_id=envelope.event_id,
            trace=Trace.caused_by(envelope, ACTOR),
        )
        self.save_processed(alert, upstream=envelope.producer, sequence=envelope.sequence)

    def when_alert_requested_deliver_it(self, event: DomainEventProtocol, sequence: int) -> None:
        """Run by the dispatcher for each stored event, in order; records the outcome with its
        position, so an alert is delivered once even if the service stops mid-way."""
        if not isinstance(event, Alert.Requested):
            return
        alert: Alert = self.repository.get(event.originator_id)
        if alert.status is not AlertStatus.REQUESTED:
            return
        delivery = self._deliver(alert)
        trace = Trace(ACTOR, event.trace.correlation_id, alert.id)
        now = datetime.now(UTC)
        if delivery.delivered:
            alert.mark_delivered(delivery.channel, delivery.attempts, now, trace)
        else:
            alert.mark_failed(delivery.channel, delivery.attempts, delivery.error or "", now, trace)
        self.save_processed(alert, upstream=DISPATCHER, sequence=sequence)

    def _deliver(self, alert: Alert) -> Delivery:
        message = {
            "alert_id": str(alert.id),
            "team": alert.team,
            "kind": alert.kind,
            "order_reference": alert.order_reference,
            "link": alert.link,
        }
        delivery = Delivery("none", 1, "the team has no channels")
        for channel in self.teams.teams[alert.team].channels:
            delivery = deliver(
                channel,
                message,
                idempotency_key=str(alert.id),
                secret=self.settings.webhook_secret.get_secret_value(),
                attempts=self.settings.alert_delivery_attempts,
                backoff_seconds=self.settings.alert_retry_base_seconds,
                client=self._http,
            )
            if delivery.delivered:
                break
        return delivery

    @cached_property
    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=10.0)

    def get_alert(self, alert_id: UUID) -> dict[str, Any]:
        alert: Alert = self.load(alert_id, NotFound(f"no alert {alert_id}"))
        return {
            "id": str(alert.id),
            "team": alert.team,
            "kind": alert.kind,
            "order_reference": alert.order_reference,
            "status": alert.status.value,
        }
