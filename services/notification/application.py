"""The notification service layer: alerts requested from upstream events, then delivered."""

from datetime import timedelta
from functools import cached_property, partial
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.domain import DomainEventProtocol

from plumbing.configuration import team_directory
from plumbing.eventstore import EventSourcedService
from schemas.application import (
    OrderAllocatedV1,
    OrderExpiredV1,
    OrderNotificationOverdueV1,
    OrderReallocatedV1,
    OrderRenewalReviewDueV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.breach import BreachRecordedV1
from schemas.configuration import Channel, TeamDirectory
from schemas.envelope import Envelope
from schemas.refusals import CommandRejected, NotFound
from schemas.trace import Trace
from services.notification.channels import Delivery, Transport, deliver
from services.notification.domain import Alert, AlertStatus
from services.notification.wire import WIRE

DISPATCHER = "dispatch:alerts"
ACTOR = "service:notification"


class NoTeamToAlert(CommandRejected):
    def __init__(self, team_or_district: str) -> None:
        super().__init__(f"the team directory lists no MOSOVO team for {team_or_district!r}")


class NotificationService(EventSourcedService):
    name = "notification"
    wire = WIRE

    @property
    def teams(self) -> TeamDirectory:
        return team_directory(self)

    def will_load(self, envelope: Envelope) -> list[UUID]:
        return [Alert.create_id(envelope.event_id)]

    def when_order_allocated_alert_team(self, envelope: OrderAllocatedV1) -> None:
        allocated = envelope.payload
        self._request_alert(envelope, allocated.team, "order allocated", allocated.order_reference)

    def when_order_reallocated_alert_new_team(self, envelope: OrderReallocatedV1) -> None:
        moved = envelope.payload
        kind = f"order reallocated to your team from {moved.from_team}"
        self._request_alert(envelope, moved.team, kind, moved.order_reference)

    def when_order_varied_alert_team(self, envelope: OrderVariedV1) -> None:
        self._alert_managing_team(envelope, "order varied: its terms have changed")

    def when_order_renewal_review_due_alert_team(self, envelope: OrderRenewalReviewDueV1) -> None:
        ends_on = envelope.payload.ends_on.isoformat()
        self._alert_managing_team(envelope, f"renewal review due: the order ends on {ends_on}")

    def when_order_renewed_alert_team(self, envelope: OrderRenewedV1) -> None:
        ends_on = envelope.payload.ends_on
        until = ends_on.isoformat() if ends_on else "further order"
        self._alert_managing_team(envelope, f"order renewed: it now runs until {until}")

    def when_order_expired_alert_team(self, envelope: OrderExpiredV1) -> None:
        ended = envelope.payload
        kind = f"order ended on {ended.ended_on.isoformat()}: {ended.reason}"
        self._alert_managing_team(envelope, kind)

    def when_order_notification_overdue_alert_team(
        self, envelope: OrderNotificationOverdueV1
    ) -> None:
        due_on = envelope.payload.due_on.isoformat()
        kind = (
            f"notification overdue: the subject's name and home address were due by {due_on};"
            " a possible breach to confirm or dismiss"
        )
        self._alert_managing_team(envelope, kind)

    def _alert_managing_team(
        self,
        envelope: OrderVariedV1
        | OrderRenewedV1
        | OrderRenewalReviewDueV1
        | OrderExpiredV1
        | OrderNotificationOverdueV1,
        kind: str,
    ) -> None:
        order = envelope.payload
        if order.team is None:
            raise NoTeamToAlert(order.order_reference)
        self._request_alert(envelope, order.team, kind, order.order_reference)

    def when_breach_recorded_alert_team(self, envelope: BreachRecordedV1) -> None:
        breach = envelope.payload
        team = breach.team or self.teams.team_for_district(breach.district)
        if team is None:
            raise NoTeamToAlert(breach.district)
        kind = f"repeat breach (number {breach.breach_number})" if breach.repeat else "breach"
        self._request_alert(envelope, team, kind, breach.order_reference)

    def _request_alert(
        self,
        envelope: Envelope,
        team: str,
        kind: str,
        reference: str,
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

    def when_alert_raised_send_it(self, event: DomainEventProtocol, sequence: int) -> None:
        """Sends a requested alert to the team's channels, or an escalation to its fallback,
        and records the outcome with the event's position, so an alert goes out once even if
        the service stops mid-way; what is settled already is left alone. The dispatcher runs
        it in a lane of the team's (`services.notification.dispatch`)."""
        if isinstance(event, Alert.Requested):
            self._send_alert(self.repository.get(event.originator_id), sequence)
        elif isinstance(event, Alert.Escalated):
            self._send_escalation(self.repository.get(event.originator_id), sequence)

    def send_unsettled(self, alert_id: UUID) -> None:
        """Sends what of the alert is still to send: the alert, while it is requested, or its
        escalation, once escalated; the dispatcher hands on each alert left so when it takes
        the lead."""
        alert: Alert = self.repository.get(alert_id)
        if alert.status is AlertStatus.REQUESTED:
            self._send_alert(alert, None)
        else:
            self._send_escalation(alert, None)

    def team_of(self, alert_id: UUID) -> str:
        alert: Alert = self.repository.get(alert_id)
        return alert.team

    def _send_alert(self, alert: Alert, sequence: int | None) -> None:
        if alert.status is not AlertStatus.REQUESTED:
            return
        team = self.teams.teams.get(alert.team)
        channels = team.channels if team else []
        delivery = self._first_that_works(channels, alert, str(alert.id), alert.kind)
        trace, now = self._trace(alert), self.now()
        if delivery.delivered:
            alert.mark_delivered(delivery.channel, delivery.attempts, now, trace)
        else:
            alert.mark_failed(delivery.channel, delivery.attempts, delivery.error or "", now, trace)
        self.save_processed(alert, upstream=DISPATCHER, sequence=sequence)

    def _send_escalation(self, alert: Alert, sequence: int | None) -> None:
        if alert.escalated_because is None or alert.escalation_settled:
            return
        team = self.teams.teams.get(alert.team)
        fallback = [team.fallback] if team else []
        key, kind = f"{alert.id}:escalation", f"escalated: {alert.kind}"
        delivery = self._first_that_works(fallback, alert, key, kind)
        trace, now = self._trace(alert), self.now()
        if delivery.delivered:
            alert.mark_escalation_sent(delivery.channel, delivery.attempts, now, trace)
        else:
            reason = delivery.error or ""
            alert.mark_escalation_failed(delivery.channel, delivery.attempts, reason, now, trace)
        self.save_processed(alert, upstream=DISPATCHER, sequence=sequence)

    def _first_that_works(
        self, channels: list[Channel], alert: Alert, key: str, kind: str
    ) -> Delivery:
        message = {
            "alert_id": str(alert.id),
            "team": alert.team,
            "kind": kind,
            "order_reference": alert.order_reference,
            "link": alert.link,
        }
        # the directory in force may no longer list the team (merged into another, say)
        delivery = Delivery("none", 0, f"the team directory no longer lists {alert.team}")
        for channel in channels:
            delivery = deliver(channel, message, key, self._transport)
            if delivery.delivered:
                break
        return delivery

    def escalate_if_unacknowledged(self, alert_id: UUID) -> bool:
        """Escalate a delivered alert nobody acknowledged in time; False if it is not due."""
        alert: Alert = self.load(alert_id, NotFound(f"no alert {alert_id}"))
        timeout = timedelta(seconds=self.settings.alert_ack_timeout_seconds)
        try:
            alert.escalate_if_unacknowledged(timeout, self.now(), self._trace(alert))
        except CommandRejected:
            return False
        self.save(alert)
        return True

    def acknowledge_alert(self, alert_id: UUID, trace: Trace) -> None:
        alert: Alert = self.load(alert_id, NotFound(f"no alert {alert_id}"))
        alert.acknowledge(self.now(), trace)
        self.save(alert)

    def get_alert(self, alert_id: UUID) -> dict[str, Any]:
        alert: Alert = self.load(alert_id, NotFound(f"no alert {alert_id}"))
        return {
            "id": str(alert.id),
            "team": alert.team,
            "kind": alert.kind,
            "order_reference": alert.order_reference,
            "status": alert.status.value,
            "escalated_because": alert.escalated_because,
            "acknowledged_by": alert.acknowledged_by,
        }

    def _trace(self, alert: Alert) -> Trace:
        return Trace(ACTOR, alert.correlation_id, alert.id)

    @cached_property
    def _transport(self) -> Transport:
        timeout = self.settings.alert_send_timeout_seconds
        tls = httpx.create_ssl_context()  # once: building it takes longer than most sends
        return Transport(
            http=partial(httpx.AsyncClient, timeout=timeout, verify=tls),
            secret=self.settings.webhook_secret.get_secret_value(),
            smtp_host=self.settings.smtp_host,
            smtp_port=self.settings.smtp_port,
            sender=self.settings.smtp_sender,
            timeout_seconds=timeout,
            attempts=self.settings.alert_delivery_attempts,
            backoff_seconds=self.settings.alert_retry_base_seconds,
        )
