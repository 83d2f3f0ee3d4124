"""The envelope every cross-service event travels in."""

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.text import storable

BIGINT = 2**63 - 1  # positions and versions are recorded as PostgreSQL's bigint


class Contract(BaseModel):
    """Frozen; unknown fields are an error; text is text PostgreSQL can store (else a
    consumer could never record it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each `str` in the fields a contract declares becomes storable text, before
        pydantic reads them: checked in pydantic's core (a Python validator on each text
        field, called for every event parsed, had been a third of the cost of parsing)."""
        super().__init_subclass__(**kwargs)
        own = vars(cls).get("__annotations__", {})
        if any(isinstance(hint, str) for hint in own.values()):  # its text would go unchecked
            raise TypeError(f"{cls.__name__}: a contract's fields are declared as types, not text")
        own.update({name: storable(hint) for name, hint in own.items()})


class Payload(Contract):
    """Base for event payloads."""


class Envelope(Contract):
    """Metadata common to every event; subclasses fix `event_type` and `payload`."""

    event_id: UUID = Field(description="Unique id of this event.")
    event_type: str = Field(description="Name of the event, past tense.")
    schema_version: int = Field(description="Version of this event's schema.", examples=[1])
    occurred_at: AwareDatetime = Field(description="When the event happened (UTC).")
    producer: str = Field(
        description="Service or district system that produced the event.",
        examples=["referral", "district:north"],
    )
    aggregate_id: UUID = Field(description="Id of the aggregate the event belongs to.")
    aggregate_version: int = Field(
        ge=1, le=BIGINT, description="Version of that aggregate after it."
    )
    sequence: int | None = Field(
        default=None,
        ge=1,
        le=BIGINT,
        description=(
            "Position of the event in the producing service's event log; "
            "consumers record it to process each event exactly once. "
            "Required on a service's topic; absent on a district topic (district systems' "
            "messages are no positions in a log of ours): a message that breaks either is "
            "dead-lettered."
        ),
    )
    previous_sequence: int | None = Field(
        default=None,
        ge=0,
        le=BIGINT,
        description=(
            "Position of the event before this one of the same aggregate on the same topic "
            "(0: this is its first), so a consumer can tell an event that arrived before its "
            "predecessor and hold it back until the producer sends them again in order. "
            "Absent on a district topic (a message that names one is dead-lettered), and "
            "from events published before it was added."
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
        name: str = cls.model_fields["event_type"].default
        return name
