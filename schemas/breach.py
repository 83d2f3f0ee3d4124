"""Events the breach service publishes."""

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.envelope import Envelope, Payload
from schemas.personal import Personal


class BreachRecorded(Payload):
    order_id: UUID
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None = Field(
        description="MOSOVO team managing the order; absent if not yet allocated.",
        examples=["mosovo-north"],
    )
    district: str
    report_reference: str
    occurred_at: AwareDatetime
    condition_breached: Personal[str]
    breach_number: int = Field(
        ge=1, description="How many breaches the subject has had, this one included."
    )
    repeat: bool = Field(description="True from the subject's second breach on.")


class BreachOutcome(StrEnum):
    NO_FURTHER_ACTION = "no further action"
    CHARGED = "charged"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"


class BreachOutcomeRecorded(Payload):
    order_reference: str
    order_id: UUID | None = Field(
        default=None, description="The order breached (absent from outcomes recorded before)."
    )
    outcome: BreachOutcome
    sentence: Personal[str | None] = Field(description="Only on conviction.")


class BreachRecordedV1(Envelope):
    """A breach of an order was recorded against a live order."""

    event_type: Literal["BreachRecorded"] = "BreachRecorded"
    schema_version: Literal[1] = 1
    payload: BreachRecorded


class BreachOutcomeRecordedV1(Envelope):
    """A breach reached an outcome: no further action, charged, convicted or acquitted."""

    event_type: Literal["BreachOutcomeRecorded"] = "BreachOutcomeRecorded"
    schema_version: Literal[1] = 1
    payload: BreachOutcomeRecorded
