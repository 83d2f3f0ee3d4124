"""The application service process: HTTP casework commands and the accepted-referral consumer."""

from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import BaseModel, Field

from plumbing.configuration import adopting_team_directories
from plumbing.consumer import Consumers
from plumbing.eventstore import hop
from plumbing.http import Acting
from plumbing.paging import MAX_LIMIT, Page, paged
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from plumbing.timers import every
from schemas.application import Applicant, NotificationKind, OrderApplicationKind
from schemas.breach import BreachOutcomeRecordedV1
from schemas.common import (
    CODE,
    LINE,
    MAX_ITEMS,
    NAME,
    NARRATIVE,
    REFERENCE,
    TERM_KIND,
    NominalId,
    NotBlank,
)
from schemas.common import Term as WireTerm
from schemas.configuration import TeamDirectoryPublishedV1
from schemas.dates import Day, PastDate
from schemas.referral import ReferralAcceptedV1, ReferralSubjectRectifiedV1
from schemas.trace import Trace
from services.application.application import ApplicationService
from services.application.calendar import (
    CALENDAR,
    TaskKey,
    deadlines_near,
    national_record_tasks,
    orders_due,
    task_key,
)
from services.application.casework import (
    Element,
    EvidenceItem,
    EvidenceKind,
    LegalTest,
    PoliceResponse,
    ProposedTerm,
    RenewalCase,
    TermAction,
    TermChange,
)
from services.application.domain import Term
from services.application.order_applications import (
    ORDER_APPLICATIONS,
    ApplicationKey,
    application_key,
    order_applications,
)

router = APIRouter(tags=["applications"])
# the steps every application to a court takes, whatever it asks for: under /applications
# (for an order) and /order-applications (to vary, renew or discharge one)
court_steps = APIRouter(tags=["applications"])
ApplicationId = Annotated[UUID, Path(alias="application_id")]
log = structlog.get_logger()


async def _service(request: Request) -> ApplicationService:
    return request.app.state.service


Casework = Annotated[ApplicationService, Depends(_service)]


class GrantOrder(BaseModel):
    court: NotBlank = Field(max_length=NAME, examples=["Northtown Magistrates' Court"])
    made_on: PastDate
    ends_on: Day | None = Field(description="Absent for an order until further order.")
    terms: list[WireTerm] = Field(min_length=1, max_length=MAX_ITEMS)


@router.get("/applications/by-referral/{referral_id}")
async def application_for_referral(referral_id: UUID, s: Casework) -> dict[str, Any]:
    application_id = await hop(s.application_for_referral, referral_id)
    return await hop(s.get_application, application_id)


@router.get("/applications/{application_id}")
async def get_application(application_id: UUID, s: Casework) -> dict[str, Any]:
    return await hop(s.get_application, application_id)


Narrative = Annotated[str, Field(max_length=NARRATIVE)]


class LegalTestBody(BaseModel):
    necessity: NotBlank = Field(
        max_length=NARRATIVE,
        description="Why an order is necessary to protect the public, children or vulnerable "
        "adults from sexual harm from the defendant.",
    )
    act_of_a_sexual_nature: Narrative | None = Field(
        default=None, description="SRO: the act relied on."
    )
    qualifying_offence: Narrative | None = Field(default=None, description="SHPO: the offence.")
    conviction_or_caution: Narrative | None = Field(
        default=None, description="SHPO: when and where."
    )
    conduct_since: Narrative | None = Field(default=None, description="SHPO: the conduct since.")


class MatterDateBody(BaseModel):
    matter_on: PastDate = Field(description="When the matter relied on happened.")


class TermBody(BaseModel):
    kind: str = Field(pattern=TERM_KIND)
    wording: NotBlank = Field(max_length=NARRATIVE)
    necessary_and_proportionate: str = Field(
        max_length=NARRATIVE, description="Why this term, and why no less."
    )
    until: Day | None = None


class EvidenceBody(BaseModel):
    kind: EvidenceKind
    description: NotBlank = Field(max_length=NARRATIVE)
    source: NotBlank = Field(max_length=LINE)
    dated: PastDate
    supports: list[Element] = Field(min_length=1, max_length=MAX_ITEMS)


class DurationBody(BaseModel):
    ends_on: Day | None = None
    until_further_order: bool = False


class CommentsBody(BaseModel):
    comments: NotBlank = Field(max_length=NARRATIVE)


class ApplicationMadeBody(BaseModel):
    court: NotBlank = Field(max_length=NAME)
    made_on: PastDate


class HearingBody(BaseModel):
    hearing_on: Day


class DecisionBody(BaseModel):
    decided_on: PastDate
    reason: NotBlank = Field(max_length=NARRATIVE)


NoContent = status.HTTP_204_NO_CONTENT


@router.put("/applications/{application_id}/legal-test", status_code=NoContent)
async def legal_test(id_: ApplicationId, body: LegalTestBody, s: Casework, trace: Acting) -> None:
    await hop(s.set_out_legal_test, id_, LegalTest(**body.model_dump()), trace)


@router.put("/applications/{application_id}/matter-date", status_code=NoContent)
async def matter_date(id_: ApplicationId, body: MatterDateBody, s: Casework, trace: Acting) -> None:
    await hop(s.record_matter_date, id_, body.matter_on, trace)


@router.post("/applications/{application_id}/terms", status_code=NoContent)
async def propose_term(id_: ApplicationId, body: TermBody, s: Casework, trace: Acting) -> None:
    await hop(s.propose_term, id_, ProposedTerm(**body.model_dump()), trace)


@router.post("/applications/{application_id}/evidence", status_code=NoContent)
async def add_evidence(id_: ApplicationId, body: EvidenceBody, s: Casework, trace: Acting) -> None:
    item = EvidenceItem(**{**body.model_dump(), "supports": tuple(body.supports)})
    await hop(s.add_evidence, id_, item, trace)


@router.put("/applications/{application_id}/duration", status_code=NoContent)
async def duration(id_: ApplicationId, body: DurationBody, s: Casework, trace: Acting) -> None:
    await hop(s.propose_duration, id_, body.ends_on, body.until_further_order, trace)


@court_steps.post("/{application_id}/submit-for-qa", status_code=NoContent)
async def submit_for_qa(id_: ApplicationId, s: Casework, trace: Acting) -> None:
    await hop(s.submit_for_quality_assurance, id_, trace)


@court_steps.post("/{application_id}/quality-assurance")
async def quality_assurance(id_: ApplicationId, s: Casework, trace: Acting) -> dict[str, Any]:
    """Run the checklist: passed goes to legal services; otherwise back to drafting."""
    missing = await hop(s.complete_quality_assurance, id_, trace)
    return {"passed": not missing, "missing": missing}


@court_steps.post("/{application_id}/return", status_code=NoContent)
async def legal_return(id_: ApplicationId, body: CommentsBody, s: Casework, trace: Acting) -> None:
    await hop(s.return_to_drafting, id_, body.comments, trace)


@court_steps.post("/{application_id}/application-made", status_code=NoContent)
async def made(id_: ApplicationId, body: ApplicationMadeBody, s: Casework, trace: Acting) -> None:
    await hop(s.make_application, id_, body.court, body.made_on, trace)


@court_steps.post("/{application_id}/hearing", status_code=NoContent)
async def hearing(id_: ApplicationId, body: HearingBody, s: Casework, trace: Acting) -> None:
    await hop(s.list_hearing, id_, body.hearing_on, trace)


@court_steps.post("/{application_id}/refuse", status_code=NoContent)
async def refuse(id_: ApplicationId, body: DecisionBody, s: Casework, trace: Acting) -> None:
    await hop(s.refuse, id_, body.decided_on, body.reason, trace)


@court_steps.post("/{application_id}/withdraw", status_code=NoContent)
async def withdraw(id_: ApplicationId, body: DecisionBody, s: Casework, trace: Acting) -> None:
    await hop(s.withdraw, id_, body.decided_on, body.reason, trace)


def _terms(terms: list[WireTerm]) -> list[Term]:
    return [Term(t.kind, t.wording, t.until) for t in terms]


async def _record_grant(
    grant: Callable[..., str], application_id: UUID, body: GrantOrder, trace: Trace
) -> dict[str, str]:
    args = (application_id, body.court, body.made_on, body.ends_on, _terms(body.terms), trace)
    return {"order_reference": await hop(grant, *args)}


@router.post("/applications/{application_id}/grant", status_code=status.HTTP_201_CREATED)
async def grant_order(
    id_: ApplicationId, body: GrantOrder, s: Casework, trace: Acting
) -> dict[str, str]:
    """The court granted the order: it is created and allocated to the district's team."""
    return await _record_grant(s.grant_order, id_, body, trace)


@router.post("/applications/{application_id}/interim-order", status_code=status.HTTP_201_CREATED)
async def grant_interim(
    id_: ApplicationId, body: GrantOrder, s: Casework, trace: Acting
) -> dict[str, str]:
    """The court made an interim order pending the main application, which goes on."""
    return await _record_grant(s.grant_interim_order, id_, body, trace)


class OrderOnConviction(GrantOrder):
    subject_nominal_id: NominalId = Field(description="The person's nominal (PNC or ViSOR id).")
    district: str = Field(
        min_length=1, max_length=CODE, description="The district whose team will manage it."
    )
    case_number: NotBlank = Field(
        max_length=REFERENCE, description="The court's case number.", examples=["T20267001"]
    )


@router.post("/orders/made-on-conviction", status_code=status.HTTP_201_CREATED)
async def record_order_made_on_conviction(
    body: OrderOnConviction, s: Casework, trace: Acting
) -> dict[str, str]:
    """An SHPO a court made on conviction (Sentencing Act 2020 s.345), from the court's
    order: held, allocated and managed as one granted on an application; one court case's
    order once (409 again)."""
    reference = await hop(
        s.record_order_made_on_conviction,
        body.subject_nominal_id, body.district, body.court, body.case_number,
        body.made_on, body.ends_on, _terms(body.terms), trace,
    )  # fmt: skip
    return {"order_reference": reference}


class Reallocate(BaseModel):
    team: str = Field(min_length=1, max_length=CODE, description="Team id from the team directory.")
    reason: NotBlank = Field(max_length=LINE, examples=["subject moved to the east district"])


@router.post("/orders/{order_id}/reallocate", status_code=status.HTTP_204_NO_CONTENT)
async def reallocate(order_id: UUID, body: Reallocate, s: Casework, trace: Acting) -> None:
    await hop(s.reallocate_order, order_id, body.team, body.reason, trace)


class AdjournBody(BaseModel):
    adjourned_to: Day
    reason: NotBlank = Field(max_length=LINE)


class NotificationBody(BaseModel):
    kind: NotificationKind
    notified_on: PastDate
    how_received: str = Field(
        min_length=1, max_length=LINE, examples=["in person at Northtown police station"]
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME,
        description="The name notified (initial, change of name).",
    )
    address: str | None = Field(
        default=None,
        min_length=1,
        max_length=LINE,
        description="The home address notified (initial, change of address).",
    )
    changed_on: PastDate | None = Field(
        default=None, description="For a change: the day the name or address changed."
    )


@router.post("/orders/{order_id}/notifications", status_code=NoContent)
async def record_notification(
    order_id: UUID, body: NotificationBody, s: Casework, trace: Acting
) -> None:
    """MOSOVO records a notification the order's subject made: the first, or a change of
    name or home address."""
    await hop(
        s.record_notification,
        order_id,
        body.kind,
        body.notified_on,
        body.how_received,
        body.name,
        body.address,
        body.changed_on,
        trace,
    )


class NationalReference(BaseModel):
    national_reference: str = Field(
        min_length=1, max_length=100, examples=["PNC 26/123456X"],
        description="The reference the national record gave the entry.",
    )  # fmt: skip


@router.post("/orders/{order_id}/national-record/{task_id}", status_code=NoContent)
async def acknowledge_national_record(
    order_id: UUID, task_id: UUID, body: NationalReference, s: Casework, trace: Acting
) -> None:
    """The national record (PNC and ViSOR) was updated for this task of the order."""
    await hop(s.acknowledge_national_record, order_id, task_id, body.national_reference, trace)


@router.get("/national-record-tasks")
async def national_record_queue(
    request: Request,
    page: Annotated[Page[TaskKey], paged(TaskKey)],
    state: Literal["awaiting", "escalated", "updated"] | None = None,
    order_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """The ViSOR unit's queue of national record updates, soonest due first."""
    rows = await national_record_tasks(
        request.app.state.pool, state, order_id, page.after, page.fetch
    )
    return page.of(rows, task_key)


@court_steps.post("/{application_id}/adjourn", status_code=NoContent)
async def adjourn(id_: ApplicationId, body: AdjournBody, s: Casework, trace: Acting) -> None:
    await hop(s.adjourn, id_, body.adjourned_to, body.reason, trace)


@router.get("/orders/{order_id}")
async def get_order(order_id: UUID, request: Request, s: Casework) -> dict[str, Any]:
    """The order as it stands, with the applications about it (to vary, renew or discharge)."""
    order = await hop(s.get_order, order_id)
    pool = request.app.state.pool
    applications = await order_applications(pool, order_id, None, None, MAX_LIMIT)
    return order | {"applications": applications}


# Applications about an order: to vary, renew or discharge it ------------------------------


class OpenOrderApplication(BaseModel):
    kind: OrderApplicationKind
    applicant: Applicant = Field(
        description="police: on the managing team's reasons; defendant: the defendant's "
        "application, recorded as received."
    )
    grounds: NotBlank = Field(
        max_length=10_000,
        description="The police's reasons (the managing team's), or the defendant's grounds.",
        examples=["the subject has moved in with a partner who has two children under 16"],
    )
    received_on: PastDate | None = Field(
        default=None, description="A defendant's application: the day the police received it."
    )


@router.post("/orders/{order_id}/applications", status_code=status.HTTP_201_CREATED)
async def open_order_application(
    order_id: UUID, body: OpenOrderApplication, s: Casework, trace: Acting
) -> dict[str, str]:
    """Open an application to vary, renew or discharge the order. It goes through drafting,
    quality assurance, legal services and the court; only the court's grant changes the
    order."""
    application_id = await hop(
        s.open_order_application,
        order_id, body.kind, body.applicant, body.grounds, body.received_on, trace,
    )  # fmt: skip
    return {"application_id": str(application_id)}


@router.get("/order-applications")
async def list_order_applications(
    request: Request,
    page: Annotated[Page[ApplicationKey], paged(ApplicationKey)],
    order_id: UUID | None = None,
    in_progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Applications about orders, oldest first: of one order, or those in progress."""
    rows = await order_applications(
        request.app.state.pool, order_id, in_progress, page.after, page.fetch
    )
    return page.of(rows, application_key)


@router.get("/order-applications/{application_id}")
async def get_order_application(id_: ApplicationId, s: Casework) -> dict[str, Any]:
    return await hop(s.get_order_application, id_)


class TermChangeBody(BaseModel):
    action: TermAction = Field(
        description="add a term, or reword or remove one of the order's (by its number)."
    )
    term_number: int | None = Field(
        default=None, ge=1, le=1000, description="reword, remove: the term's number, from 1."
    )
    kind: str | None = Field(default=None, pattern=TERM_KIND)
    wording: str | None = Field(
        default=None, min_length=1, max_length=10_000, description="add, reword: the wording."
    )
    until: Day | None = None
    reason: str = Field(
        max_length=10_000,
        description="Why the change is now necessary and proportionate (for a removal: why "
        "the term is no longer necessary). Quality assurance fails a change without one.",
    )
    replacing: int | None = Field(
        default=None, ge=1, le=1000, description="The number of an earlier change this amends."
    )


class RenewalCaseBody(BaseModel):
    why_risk_remains: str = Field(max_length=10_000)
    ends_on: Day | None = Field(default=None, description="The renewed order's end.")
    until_further_order: bool = False


class PoliceResponseBody(BaseModel):
    consents: bool = Field(description="true: the police consent; false: they oppose.")
    reasons: str = Field(max_length=10_000)


class OrderDecisionBody(BaseModel):
    decided_on: PastDate


@router.post("/order-applications/{application_id}/term-changes", status_code=NoContent)
async def term_change(id_: ApplicationId, body: TermChangeBody, s: Casework, trace: Acting) -> None:
    change = TermChange(**body.model_dump(exclude={"replacing"}))
    await hop(s.propose_term_change, id_, change, body.replacing, trace)


@router.put("/order-applications/{application_id}/renewal-case", status_code=NoContent)
async def renewal_case(
    id_: ApplicationId, body: RenewalCaseBody, s: Casework, trace: Acting
) -> None:
    await hop(s.set_out_renewal_case, id_, RenewalCase(**body.model_dump()), trace)


@router.put("/order-applications/{application_id}/police-response", status_code=NoContent)
async def police_response(
    id_: ApplicationId, body: PoliceResponseBody, s: Casework, trace: Acting
) -> None:
    """The police's consent to, or opposition to, a defendant's application, and why."""
    await hop(s.record_police_response, id_, PoliceResponse(**body.model_dump()), trace)


@router.post("/order-applications/{application_id}/grant", status_code=NoContent)
async def grant_order_application(
    id_: ApplicationId, body: OrderDecisionBody, s: Casework, trace: Acting
) -> None:
    """The court granted the application as made: the order is varied, renewed or
    discharged."""
    await hop(s.grant_order_application, id_, body.decided_on, trace)


router.include_router(court_steps, prefix="/applications")
router.include_router(court_steps, prefix="/order-applications")


def subscribe(consumers: Consumers, service: ApplicationService, settings: Settings) -> None:
    consumers.on(ReferralAcceptedV1, service.when_referral_accepted_open_application)
    consumers.on(ReferralSubjectRectifiedV1, service.when_referral_subject_rectified_correct_it)
    consumers.on(BreachOutcomeRecordedV1, service.when_breach_convicted_require_notification)
    consumers.on(TeamDirectoryPublishedV1, adopting_team_directories(service))


async def keep_the_calendar(
    service: ApplicationService, settings: Settings, pool: asyncpg.Pool
) -> None:
    """Raise renewal reviews and expiries as orders reach them, and complaint-deadline
    warnings while there is still time to act."""

    async def tick() -> None:
        now = settings.current_time()
        today = now.date()
        for order_id in await orders_due(pool, now, settings.renewal_review_months):
            raised = await hop(service.keep_order_calendar, order_id, today)
            if raised:
                log.info("order calendar", order_id=str(order_id), raised=raised)
        limit, warning = settings.complaint_time_limit_months, settings.complaint_warning_days
        for application_id in await deadlines_near(pool, today, limit, warning):
            if await hop(service.warn_if_deadline_near, application_id, today):
                log.info("complaint deadline approaching", application_id=str(application_id))

    await every(settings.order_calendar_check_seconds, "order calendar", tick)


definition = ServiceDefinition(
    name="application",
    application=ApplicationService,
    router=router,
    subscribe=subscribe,
    local_projections=lambda service: [CALENDAR, ORDER_APPLICATIONS],
    tasks=lambda service, settings, pool: [keep_the_calendar(service, settings, pool)],
)
