"""Events that district systems publish to civil-orders."""

from enum import StrEnum
from typing import Annotated, Any, Literal

from annotated_types import MaxLen, MinLen
from pydantic import BeforeValidator, Field

from schemas.common import (
    CODE,
    LINE,
    MAX_ITEMS,
    NAME,
    NARRATIVE,
    REFERENCE,
    NominalId,
    OrderSought,
    ReferredSubject,
)
from schemas.dates import Moment, PastDate, PastTime
from schemas.envelope import Envelope, Payload

# the items of the lists a district sends
CrimeReference = Annotated[str, MinLen(1), MaxLen(REFERENCE)]
Conviction = Annotated[str, MinLen(1), MaxLen(LINE)]
Marker = Annotated[str, MinLen(1), MaxLen(NAME)]


class DistrictReferral(Payload):
    district: str = Field(
        min_length=1, max_length=CODE, description="District or BCU code.", examples=["north"]
    )
    district_reference: str = Field(
        min_length=1,
        max_length=REFERENCE,
        description="The district's own reference; the same reference twice is one referral.",
        examples=["NTH-2026-0042"],
    )
    referring_officer: str = Field(min_length=1, max_length=NAME, examples=["PC 1234 Example"])
    subject: ReferredSubject
    order_sought: OrderSought
    grounds: str = Field(
        min_length=1,
        max_length=NARRATIVE,
        description="Why the referrer believes there is a risk.",
    )
    crime_references: list[CrimeReference] = Field(
        default_factory=list, max_length=MAX_ITEMS, examples=[["CR/123/26"]]
    )
    previous_convictions: list[Conviction] = Field(default_factory=list, max_length=MAX_ITEMS)


class DistrictEnvelope(Envelope):
    """A district system's message: dated as anything that comes in is (the events the
    services publish record what was accepted, and are not checked again)."""

    occurred_at: Moment = Field(
        description="When the event happened, written in ISO 8601 with its offset (UTC).",
        examples=["2026-12-02T09:30:00Z"],
    )


class DistrictReferralV1(DistrictEnvelope):
    """A district refers a person it believes poses a risk of sexual harm."""

    event_type: Literal["DistrictReferral"] = "DistrictReferral"
    schema_version: Literal[1] = 1
    payload: DistrictReferral


class DistrictBreachReport(Payload):
    district: str = Field(min_length=1, max_length=CODE, examples=["north"])
    report_reference: str = Field(
        min_length=1,
        max_length=REFERENCE,
        description="The district's reference for the report; the same one twice is one breach.",
        examples=["NTH-BR-0007"],
    )
    order_reference: str = Field(min_length=1, max_length=REFERENCE, examples=["ORD-2026-000001"])
    occurred_at: PastTime = Field(description="When the breach happened: not in the future.")
    location: str = Field(min_length=1, max_length=LINE)
    condition_breached: str = Field(
        min_length=1, max_length=NARRATIVE, description="Wording of the term breached."
    )
    how_detected: str = Field(min_length=1, max_length=LINE, examples=["home visit"])
    reporting_officer: str = Field(min_length=1, max_length=NAME)


class DistrictBreachReportV1(DistrictEnvelope):
    """A district reports a breach of a civil order."""

    event_type: Literal["DistrictBreachReport"] = "DistrictBreachReport"
    schema_version: Literal[1] = 1
    payload: DistrictBreachReport


class VictimAgeBand(StrEnum):
    UNDER_13 = "under 13"
    AGED_13_TO_15 = "13 to 15"
    AGED_16_TO_17 = "16 to 17"
    ADULT = "adult"
    UNKNOWN = "unknown"


def _none_if_blank(suspect: Any) -> Any:
    """A district's "no suspect" written as blank text: no suspect, not a person named ""."""
    return None if isinstance(suspect, str) and not suspect.strip() else suspect


class DistrictDisposal(Payload):
    district: str = Field(min_length=1, max_length=CODE, examples=["north"])
    crime_reference: str = Field(min_length=1, max_length=REFERENCE, examples=["CR/4411/25"])
    outcome_code: str = Field(
        pattern=r"^\d{1,2}[A-Z]?$",
        description="Home Office crime outcome code, e.g. 15 (evidential difficulties).",
        examples=["15"],
    )
    offence: str = Field(
        min_length=1, max_length=LINE, examples=["Sexual assault on a female aged 13 or over"]
    )
    offence_category: str = Field(
        min_length=1,
        max_length=NAME,
        description="The force's offence category, as the screening rules name them.",
        examples=["sexual offence", "online child sexual abuse", "voyeurism"],
    )
    sexual_offence: bool
    suspect_nominal_id: Annotated[NominalId | None, BeforeValidator(_none_if_blank)] = Field(
        default=None,
        description="Absent, null or blank when no suspect was identified (outcomes 14, 18).",
    )
    victim_age_band: VictimAgeBand
    intelligence_flags: list[Marker] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="Intelligence markers held on the suspect.",
    )
    disposed_on: PastDate = Field(description="When the crime was closed: not in the future.")


class DistrictDisposalV1(DistrictEnvelope):
    """A crime closed without a charge or caution, from a district's crime system."""

    event_type: Literal["DistrictDisposal"] = "DistrictDisposal"
    schema_version: Literal[1] = 1
    payload: DistrictDisposal
