"""Events that district systems publish to civil-orders."""

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import OrderSought, Subject
from schemas.envelope import Envelope, Payload


class DistrictReferral(Payload):
    district: str = Field(min_length=1, description="District or BCU code.", examples=["north"])
    district_reference: str = Field(
        min_length=1,
        description="The district's own reference; the same reference twice is one referral.",
        examples=["NTH-2026-0042"],
    )
    referring_officer: str = Field(min_length=1, examples=["PC 1234 Example"])
    subject: Subject
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
    occurred_at: AwareDatetime = Field(description="When the breach happened.")
    location: str = Field(min_length=1)
    condition_breached: str = Field(min_length=1, description="Wording of the term breached.")
    how_detected: str = Field(min_length=1, examples=["home visit"])
    reporting_officer: str = Field(min_length=1)


class DistrictBreachReportV1(Envelope):
    """A district reports a breach of a civil order."""

    event_type: Literal["DistrictBreachReport"] = "DistrictBreachReport"
    schema_version: Literal[1] = 1
    payload: DistrictBreachReport
