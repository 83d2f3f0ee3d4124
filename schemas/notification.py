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
    channel: str = Field(examples=["webhook"])
    attempts: int = Field(ge=1)


class AlertDeliveredV1(Envelope):
    event_type: Literal["AlertDelivered"] = "AlertDelivered"
    schema_version: Literal[1] = 1
    payload: AlertDelivered


class AlertFailed(Payload):
    team: str
    channel: str
    attempts: int = Field(ge=1)
    reason: str


class AlertFailedV1(Envelope):
    event_type: Literal["AlertFailed"] = "AlertFailed"
    schema_version: Literal[1] = 1
    payload: AlertFailed
