"""Events the notification service publishes about alerts to MOSOVO teams."""

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.envelope import Envelope, Payload


class AlertRequested(Payload):
    team: str = Field(examples=["mosovo-north"])
    kind: str = Field(examples=["order allocated", "breach"])
    order_reference: str
    trigger_event_id: UUID = Field(description="The event the alert is about (idempotency key).")


class AlertRequestedV1(Envelope):
    event_type: Literal["AlertRequested"] = "AlertRequested"
    schema_version: Literal[1] = 1
    payload: AlertRequested


class AlertDelivered(Payload):
    team: str
    channel: str = Field(examples=["webhook https://teams.example/alerts"])
    attempts: int = Field(ge=1)
    escalation: bool = Field(description="True when this was the escalation to the fallback.")


class AlertDeliveredV1(Envelope):
    event_type: Literal["AlertDelivered"] = "AlertDelivered"
    schema_version: Literal[1] = 1
    payload: AlertDelivered


class AlertFailed(Payload):
    team: str
    channel: str
    attempts: int = Field(ge=0)
    reason: str
    escalation: bool = Field(description="True when this was the escalation to the fallback.")


class AlertFailedV1(Envelope):
    event_type: Literal["AlertFailed"] = "AlertFailed"
    schema_version: Literal[1] = 1
    payload: AlertFailed


class AlertEscalated(Payload):
    team: str
    reason: str = Field(examples=["delivery failed: HTTP 503", "not acknowledged within 4:00:00"])


class AlertEscalatedV1(Envelope):
    """An alert failed or went unacknowledged, and escalates to the team's fallback channel."""

    event_type: Literal["AlertEscalated"] = "AlertEscalated"
    schema_version: Literal[1] = 1
    payload: AlertEscalated


class AlertAcknowledged(Payload):
    team: str


class AlertAcknowledgedV1(Envelope):
    """Someone in the team acknowledged the alert (the envelope's actor says who)."""

    event_type: Literal["AlertAcknowledged"] = "AlertAcknowledged"
    schema_version: Literal[1] = 1
    payload: AlertAcknowledged
