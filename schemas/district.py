"""Events that district systems publish to civil-orders."""

from enum import StrEnum
from typing import Literal

from pydantic import Field

from schemas.common import OrderSought, ReferredSubject
from schemas.dates import PastDate, PastTime
from schemas.envelope import Envelope, Payload


class DistrictReferral(Payload):
    district: str = Field(min_length=1, description="District or BCU code.", examples=["north"])
    district_reference: str = Field(
        min_length=1,
        description="The district's own reference; the same reference twice is one referral.",
        examples=["NTH-2026-0042"],
    )
    referring_officer: str = Field(min_length=1, examples=["PC 1234 Example"])
    subject: ReferredSubject
    order_sought: OrderSought
    grounds: str = Field(min_length=1, description="Why the referrer believes there is a risk.")
    crime_references: list[str] = Field(default_factory=list, examples=[["CR/123/26"]])
    previous_convictions: list[str] = Field(default_factory=list)


class DistrictReferralV1(Envelope):
    """A district refers a person it believes poses a risk of sexual harm."""

    event_type: Literal["DistrictReferral"] = "DistrictReferral"
    schema_version: Literal[1] = 1
    payload: DistrictReferral


class DistrictBreachReport(Payload):
    district: str = Field(min_length=1, examples=["north"])
    report_reference: str = Field(
        min_length=1,
        description="The district's reference for the report; the same one twice is one breach.",
        examples=["NTH-BR-0007"],
    )
    order_reference: str = Field(min_length=1, examples=["ORD-2026-000001"])
    occurred_at: PastTime = Field(description="When the breach happened: not in the future.")
    location: str = Field(min_length=1)
    condition_breached: str = Field(min_length=1, description="Wording of the term breached.")
    how_detected: str = Field(min_length=1, examples=["home visit"])
    reporting_officer: str = Field(min_length=1)


class DistrictBreachReportV1(Envelope):
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


class DistrictDisposal(Payload):
    district: str = Field(min_length=1, examples=["north"])
    crime_reference: str = Field(min_length=1, examples=["CR/4411/25"])
    outcome_code: str = Field(
        pattern=r"^\d{1,2}[A-Z]?$",
        description="Home Office crime outcome code, e.g. 15 (evidential difficulties).",
        examples=["15"],
    )
    offence: str = Field(min_length=1, examples=["Sexual assault on a female aged 13 or over"])
    offence_category: str = Field(
        min_length=1,
        description="The force's offence category, as the screening rules name them.",
        examples=["sexual offence", "online child sexual abuse", "voyeurism"],
    )
    sexual_offence: bool
    suspect_nominal_id: str | None = Field(
        default=None, description="Absent when no suspect was identified (outcomes 14, 18)."
    )
    victim_age_band: VictimAgeBand
    intelligence_flags: list[str] = Field(
        default_factory=list, description="Intelligence markers held on the suspect."
    )
    disposed_on: PastDate = Field(description="When the crime was closed: not in the future.")


class DistrictDisposalV1(Envelope):
    """A crime closed without a charge or caution, from a district's crime system."""

    event_type: Literal["DistrictDisposal"] = "DistrictDisposal"
    schema_version: Literal[1] = 1
    payload: DistrictDisposal
