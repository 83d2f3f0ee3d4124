"""Events the application service publishes: applications and orders."""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.common import REFERENCE, OrderType, Term
from schemas.envelope import Envelope, Payload
from schemas.personal import Personal


class ApplicationOpened(Payload):
    referral_id: UUID
    subject_nominal_id: Personal[str] = Field(examples=["N100234"])
    district: str
    order_type: OrderType


class ApplicationOpenedV1(Envelope):
    """A caseworker's court application was opened from an accepted referral."""

    event_type: Literal["ApplicationOpened"] = "ApplicationOpened"
    schema_version: Literal[1] = 1
    payload: ApplicationOpened


class ApplicationStage(StrEnum):
    DRAFTING = "drafting"
    QUALITY_ASSURANCE = "quality assurance"
    WITH_LEGAL_SERVICES = "with legal services"
    APPLIED_TO_COURT = "application made to court"
    HEARING_LISTED = "hearing listed"
    DECIDED = "decided"


class ApplicationStageChanged(Payload):
    referral_id: UUID
    district: str
    stage: ApplicationStage
    outcome: str | None = Field(
        description="Once decided: granted, interim granted, refused or withdrawn.",
        examples=["granted"],
    )
    decided_on: date | None = Field(description="When decided, the date of the decision.")
    reason: Personal[str | None] = Field(
        description="Why: QA gaps, legal services' comments, a refusal or withdrawal reason.",
        examples=["no evidence for the element: act done"],
    )


class ApplicationStageChangedV1(Envelope):
    """An application moved on: to QA, back to drafting, to legal services, to court, decided."""

    event_type: Literal["ApplicationStageChanged"] = "ApplicationStageChanged"
    schema_version: Literal[1] = 1
    payload: ApplicationStageChanged


class OrderApplicationKind(StrEnum):
    """What an application about an order asks the court for."""

    VARIATION = "variation"
    RENEWAL = "renewal"
    DISCHARGE = "discharge"


class Applicant(StrEnum):
    POLICE = "police"
    DEFENDANT = "defendant"


class OrderApplicationOpened(Payload):
    application_id: UUID
    order_reference: str = Field(examples=["ORD-2026-000001"])
    kind: OrderApplicationKind
    applicant: Applicant
    district: str
    team: str | None = Field(description="The MOSOVO team managing the order.")
    received_on: date | None = Field(
        description="A defendant's application: the day the police received it."
    )


class OrderApplicationOpenedV1(Envelope):
    """An application to vary, renew or discharge an order was opened: by the police, on the
    managing team's reasons, or the defendant's, recorded on receipt. It goes through the
    same stages as the application for the order; only the court's outcome changes it."""

    event_type: Literal["OrderApplicationOpened"] = "OrderApplicationOpened"
    schema_version: Literal[1] = 1
    payload: OrderApplicationOpened


class OrderApplicationStageChanged(Payload):
    application_id: UUID
    order_reference: str = Field(examples=["ORD-2026-000001"])
    kind: OrderApplicationKind
    stage: ApplicationStage
    outcome: str | None = Field(
        description="Once decided: granted, refused or withdrawn.", examples=["granted"]
    )
    decided_on: date | None = Field(description="When decided, the date of the decision.")
    reason: Personal[str | None] = Field(
        description="Why: QA gaps, legal services' comments, a refusal or withdrawal reason.",
        examples=["change 1 does not say why it is now necessary and proportionate"],
    )


class OrderApplicationStageChangedV1(Envelope):
    """An application about an order moved on: to QA, back to drafting, to legal services,
    to court, decided (a granted one changes the order: see `application.orders.v1`)."""

    event_type: Literal["OrderApplicationStageChanged"] = "OrderApplicationStageChanged"
    schema_version: Literal[1] = 1
    payload: OrderApplicationStageChanged


class OrderGranted(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    application_id: UUID | None = Field(
        description="The application the order was granted on; absent for an SHPO a court "
        "made on conviction (Sentencing Act 2020 s.345), which no application preceded."
    )
    case_number: Personal[str | None] = Field(
        default=None,
        max_length=REFERENCE,
        description="An SHPO made on conviction: the court's case number it was made in.",
        examples=["T20267001"],
    )
    order_type: OrderType
    interim: bool = Field(description="An interim order, pending the main application.")
    subject_nominal_id: Personal[str] = Field(examples=["N100234"])
    district: str
    court: str = Field(examples=["Northtown Magistrates' Court"])
    made_on: date
    starts_on: date
    ends_on: date | None = Field(description="Absent when the order runs until further order.")
    terms: list[Term]


class OrderGrantedV1(Envelope):
    """A court granted an order, on an application or (an SHPO) on conviction; the reference
    is what every other service uses."""

    event_type: Literal["OrderGranted"] = "OrderGranted"
    schema_version: Literal[1] = 1
    payload: OrderGranted


class OrderAllocated(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str = Field(description="MOSOVO team that manages the order.", examples=["mosovo-north"])
    district: str


class OrderReallocated(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    from_team: str = Field(examples=["mosovo-north"])
    team: str = Field(description="The team that manages the order now.", examples=["mosovo-east"])
    district: str = Field(description="The district the order was made in.")
    reason: Personal[str] = Field(examples=["subject moved to the east district"])


class OrderAllocatedV1(Envelope):
    """An order's management was allocated to a district MOSOVO team."""

    event_type: Literal["OrderAllocated"] = "OrderAllocated"
    schema_version: Literal[1] = 1
    payload: OrderAllocated


class OrderReallocatedV1(Envelope):
    """An order's management moved to another MOSOVO team."""

    event_type: Literal["OrderReallocated"] = "OrderReallocated"
    schema_version: Literal[1] = 1
    payload: OrderReallocated


class OrderVaried(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None = Field(description="The MOSOVO team managing the order.")
    varied_on: date
    ends_on: date | None = Field(description="Absent when the order runs until further order.")
    terms: list[Term]


class OrderVariedV1(Envelope):
    """A court varied an order: these are its terms and end date now."""

    event_type: Literal["OrderVaried"] = "OrderVaried"
    schema_version: Literal[1] = 1
    payload: OrderVaried


class OrderRenewalReviewDue(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None
    ends_on: date


class OrderRenewalReviewDueV1(Envelope):
    """An order ends soon (a configured number of months ahead): consider renewing it."""

    event_type: Literal["OrderRenewalReviewDue"] = "OrderRenewalReviewDue"
    schema_version: Literal[1] = 1
    payload: OrderRenewalReviewDue


class OrderExpired(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    subject_nominal_id: Personal[str] = Field(examples=["N100234"])
    reason: str = Field(examples=["it reached its end date", "replaced by ORD-2026-000002"])
    team: str | None
    ended_on: date


class OrderExpiredV1(Envelope):
    """An order no longer has effect: it reached its end date, or a new order replaced it."""

    event_type: Literal["OrderExpired"] = "OrderExpired"
    schema_version: Literal[1] = 1
    payload: OrderExpired


class ComplaintDeadlineApproaching(Payload):
    application_id: UUID
    district: str
    deadline: date = Field(description="Last day to make the complaint to a magistrates' court.")
    days_left: int


class ComplaintDeadlineApproachingV1(Envelope):
    """An application's complaint must reach the court soon, and has not yet."""

    event_type: Literal["ComplaintDeadlineApproaching"] = "ComplaintDeadlineApproaching"
    schema_version: Literal[1] = 1
    payload: ComplaintDeadlineApproaching


class OrderRenewed(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None
    renewed_on: date
    ends_on: date | None = Field(description="Absent when it now runs until further order.")


class OrderRenewedV1(Envelope):
    """A court renewed an order: it runs to a new end date."""

    event_type: Literal["OrderRenewed"] = "OrderRenewed"
    schema_version: Literal[1] = 1
    payload: OrderRenewed


class OrderNotificationRequired(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None
    requirement: str = Field(description="What the subject must notify, and under which law.")
    within_days: int | None = Field(description="Days allowed after the order or a change.")
    due_on: date | None = Field(description="The first notification's last day; absent "
                                "where the requirements are managed on ViSOR (an SHPO).")


class OrderNotificationRequiredV1(Envelope):
    """An order obliges its subject to notify the police: by a date (an SRO), or under the
    notification requirements while it has effect (an SHPO)."""

    event_type: Literal["OrderNotificationRequired"] = "OrderNotificationRequired"
    schema_version: Literal[1] = 1
    payload: OrderNotificationRequired


class NotificationKind(StrEnum):
    INITIAL = "initial"
    CHANGE_OF_NAME = "change of name"
    CHANGE_OF_ADDRESS = "change of address"


class OrderNotificationRecorded(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None
    kind: NotificationKind
    notified_on: date
    how_received: str = Field(examples=["in person at the station front counter"])
    late: bool = Field(description="Made after the days allowed.")


class OrderNotificationRecordedV1(Envelope):
    """MOSOVO recorded a notification by the subject of an order (the name and address it
    gave stay in the application service)."""

    event_type: Literal["OrderNotificationRecorded"] = "OrderNotificationRecorded"
    schema_version: Literal[1] = 1
    payload: OrderNotificationRecorded


class OrderNotificationOverdue(Payload):
    order_reference: str = Field(examples=["ORD-2026-000001"])
    team: str | None
    due_on: date


class OrderNotificationOverdueV1(Envelope):
    """The subject of an order has not made the notification due by a date: a possible breach
    (SOA 2003 s.122H) for the managing team to confirm or dismiss."""

    event_type: Literal["OrderNotificationOverdue"] = "OrderNotificationOverdue"
    schema_version: Literal[1] = 1
    payload: OrderNotificationOverdue


class NationalRecordChange(StrEnum):
    MADE = "made"
    VARIED = "varied"
    RENEWED = "renewed"
    ENDED = "ended"


class NationalRecordUpdateRequested(Payload):
    task_id: UUID
    order_reference: str = Field(examples=["ORD-2026-000001"])
    order_type: OrderType
    subject_nominal_id: Personal[str] = Field(examples=["N100234"])
    team: str | None
    change: NationalRecordChange
    detail: str = Field(examples=["SRO made at Northtown Magistrates' Court"])
    effective_on: date
    ends_on: date | None = Field(description="As the order now stands; absent: until further "
                                 "order.")
    due_by: AwareDatetime = Field(description="When the update must be acknowledged before the "
                             "task goes to the ViSOR unit.")
    outstanding: int = Field(ge=1, description="The order's updates not yet acknowledged.")


class NationalRecordUpdateRequestedV1(Envelope):
    """A change to an order (made, varied, renewed, ended) must be entered on the national
    record, the Police National Computer and ViSOR: a task for the integration that does it,
    acknowledged with the national reference."""

    event_type: Literal["NationalRecordUpdateRequested"] = "NationalRecordUpdateRequested"
    schema_version: Literal[1] = 1
    payload: NationalRecordUpdateRequested


class NationalRecordUpdated(Payload):
    task_id: UUID
    order_reference: str = Field(examples=["ORD-2026-000001"])
    national_reference: str = Field(examples=["PNC 26/123456X"])
    outstanding: int = Field(ge=0, description="The order's updates still not acknowledged.")


class NationalRecordUpdatedV1(Envelope):
    """A national record task was acknowledged as done, with the national reference."""

    event_type: Literal["NationalRecordUpdated"] = "NationalRecordUpdated"
    schema_version: Literal[1] = 1
    payload: NationalRecordUpdated


class NationalRecordEscalated(Payload):
    task_id: UUID
    order_reference: str = Field(examples=["ORD-2026-000001"])
    change: NationalRecordChange
    due_by: AwareDatetime


class NationalRecordEscalatedV1(Envelope):
    """A national record task was not acknowledged in time: it goes to the ViSOR unit's
    queue (once)."""

    event_type: Literal["NationalRecordEscalated"] = "NationalRecordEscalated"
    schema_version: Literal[1] = 1
    payload: NationalRecordEscalated
