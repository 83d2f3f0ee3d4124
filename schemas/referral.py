"""Events the referral service publishes."""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.common import OrderSought, Subject
from schemas.envelope import Envelope, Payload
from schemas.personal import Personal


class ReferralReceived(Payload):
    district: str = Field(examples=["north"])
    district_reference: str = Field(examples=["NTH-2026-0042"])
    source: str = Field(description="How it arrived: district system or staff form.")
    order_sought: OrderSought
    referred_on: date = Field(
        description="When the referral was made: by the district, or by a caseworker "
        "promoting a proactive-scan candidate."
    )


class ReferralReceivedV1(Envelope):
    """A referral was recorded (personal details stay in the referral service)."""

    event_type: Literal["ReferralReceived"] = "ReferralReceived"
    schema_version: Literal[1] = 1
    payload: ReferralReceived


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under review"
    RETURNED = "returned for information"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ReferralStatusChanged(Payload):
    district: str = Field(examples=["north"])
    status: ReferralStatus
    caseworker: str | None = Field(
        description="The caseworker the referral is with, once assigned.",
        examples=["caseworker:cw-1"],
    )
    reason: Personal[str | None] = Field(
        description="Why, where the change has one: a decline or reassignment reason.",
        examples=["does not meet the threshold"],
    )


class ReferralStatusChangedV1(Envelope):
    """A referral moved through triage, or moved between caseworkers."""

    event_type: Literal["ReferralStatusChanged"] = "ReferralStatusChanged"
    schema_version: Literal[1] = 1
    payload: ReferralStatusChanged


class ReferralAccepted(Payload):
    referral_id: UUID
    district: str = Field(examples=["north"])
    subject: Subject
    order_sought: OrderSought
    grounds: Personal[str]
    crime_references: Personal[list[str]]
    accepted_by: str = Field(examples=["caseworker:cw-1"])


class ReferralAcceptedV1(Envelope):
    """A caseworker accepted a referral: it becomes a court application."""

    event_type: Literal["ReferralAccepted"] = "ReferralAccepted"
    schema_version: Literal[1] = 1
    payload: ReferralAccepted


class ReferralSubjectRectified(Payload):
    referral_id: UUID
    district: str = Field(examples=["north"])
    subject: Subject = Field(description="The person as now recorded, corrected.")
    reason: Personal[str] = Field(
        description="Why the record was corrected.", examples=["date of birth mistyped"]
    )


class ReferralSubjectRectifiedV1(Envelope):
    """The person a referral names was recorded wrongly: the corrected name and date of birth
    supersede the earlier ones (DPA 2018 s.46); services that copied them correct theirs."""

    event_type: Literal["ReferralSubjectRectified"] = "ReferralSubjectRectified"
    schema_version: Literal[1] = 1
    payload: ReferralSubjectRectified


class ProactiveCandidateIdentified(Payload):
    district: str = Field(examples=["north"])
    crime_reference: str = Field(examples=["CR/4411/25"])
    suspect_nominal_id: Personal[str] = Field(examples=["N100234"])
    score: int
    rules_fired: list[str] = Field(examples=[["offence category: sexual offence"]])
    rules_version: str = Field(description="Version of the screening rules that flagged it.")


class ProactiveCandidateIdentifiedV1(Envelope):
    """Screening flagged the suspect of a non-positive disposal for a caseworker to review."""

    event_type: Literal["ProactiveCandidateIdentified"] = "ProactiveCandidateIdentified"
    schema_version: Literal[1] = 1
    payload: ProactiveCandidateIdentified


class DisposalScreened(Payload):
    suspect_nominal_id: Personal[str] = Field(
        description="Whom the disposal named.", examples=["N100234"]
    )
    outcome_code: str = Field(
        description="Home Office crime outcome code of the disposal.", examples=["15"]
    )
    disposed_on: date = Field(description="When the crime was closed.")


class DisposalScreenedV1(Envelope):
    """Screening took a non-positive disposal (each crime once, whatever it scored) naming a
    suspect an order has been made against: whom it named, when and how the crime was closed.
    The suspect's disposals screened before their first order are sent when it is made, those
    after it as they are screened. The rest of the disposal stays in the referral service."""

    event_type: Literal["DisposalScreened"] = "DisposalScreened"
    schema_version: Literal[1] = 1
    payload: DisposalScreened


class ScreeningCoverage(Payload):
    earliest_disposed_on: date = Field(
        description="The day the earliest disposal screening has taken was closed."
    )


class ScreeningCoverageV1(Envelope):
    """How far back the disposals screened reach, sent when screening first takes a disposal
    and whenever it takes one closed earlier than any before: a person's disposals published
    (`DisposalScreened`) are whole from that day, and none are known before it."""

    event_type: Literal["ScreeningCoverage"] = "ScreeningCoverage"
    schema_version: Literal[1] = 1
    payload: ScreeningCoverage
