"""The envelope every cross-service event travels in."""

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Payload(BaseModel):
    """Base for event payloads: frozen, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """Metadata common to every event; subclasses fix `event_type` and `payload`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(description="Unique id of this event.")
    event_type: str = Field(description="Name of the event, past tense.")
    schema_version: int = Field(description="Version of this event's schema.", examples=[1])
    occurred_at: AwareDatetime = Field(description="When the event happened (UTC).")
    producer: str = Field(
        description="Service or district system that produced the event.",
        examples=["referral", "district:north"],
    )
    aggregate_id: UUID = Field(description="Id of the aggregate the event belongs to.")
    aggregate_version: int = Field(ge=1, description="Version of that aggregate after it.")
    sequence: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Position of the event in the producing service's event log; "
            "consumers record it to process each event exactly once. "
            "Absent for events from district systems."
        ),
    )
    correlation_id: UUID = Field(description="Id shared by every event of one piece of work.")
    causation_id: UUID | None = Field(
        default=None, description="Id of the event or command that caused this one."
    )
    actor: str = Field(
        min_length=1,
        description="Who acted: a user id, or a service for automatic reactions.",
        examples=["caseworker:cw-1", "service:application"],
    )
    payload: Payload = Field(description="What happened; each event type fixes its shape.")

    @classmethod
    def type_name(cls) -> str:
        return cls.model_fields["event_type"].default
