"""Events about outreach: the sessions ("roadshows") caseworkers hold for a district's staff."""

from datetime import date
from typing import Literal

from pydantic import Field

from schemas.envelope import Envelope, Payload


class OutreachSessionRecorded(Payload):
    district: str = Field(
        min_length=1, description="District or BCU code the session was held for.",
        examples=["north"],
    )  # fmt: skip
    held_on: date = Field(description="The day the session was held.", examples=["2021-03-10"])
    audience: str = Field(
        min_length=1, description="Who attended.", examples=["north BCU response officers"]
    )
    notes: str = Field(
        description="Anything else worth knowing about the session; never case details.",
        examples=["40 minutes at the morning briefing; referral form handed out"],
    )


class OutreachSessionRecordedV1(Envelope):
    """A caseworker or manager recorded an outreach session held for a district's staff."""

    event_type: Literal["OutreachSessionRecorded"] = "OutreachSessionRecorded"
    schema_version: Literal[1] = 1
    payload: OutreachSessionRecorded
