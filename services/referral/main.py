"""The referral service process: HTTP intake and triage, and the district referral consumer."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, model_validator

from plumbing.consumer import Consumers
from plumbing.eventstore import hop
from plumbing.http import Acting
from plumbing.paging import MAX_LIMIT, Page, paged
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from plumbing.timers import every
from schemas.application import (
    ApplicationOpenedV1,
    ApplicationStageChangedV1,
    OrderExpiredV1,
    OrderGrantedV1,
)
from schemas.common import (
    LINE,
    MAX_ITEMS,
    NARRATIVE,
    NominalId,
    NotBlank,
    OrderSought,
    ReferredSubject,
    Stated,
)
from schemas.configuration import ScreeningRulesPublishedV1
from schemas.dates import Moment, PastDate
from schemas.district import DistrictDisposalV1, DistrictReferral, DistrictReferralV1
from services.referral.application import NotACaseworker, ReferralService
from services.referral.candidates import (
    CandidateKey,
    candidate_key,
    candidates_projection,
    count_candidates,
    list_candidates,
)
from services.referral.domain import Candidate, DeclineReason, DismissalReason, SubjectRecord
from services.referral.queue import (
    QUEUE,
    QueueKey,
    possibly_overdue,
    queue_key,
    waiting,
)
from services.referral.reviewing import queue_due_reviews, reviews
from services.referral.reviews import reviews_projection

referrals = APIRouter(prefix="/referrals", tags=["referrals"])
log = structlog.get_logger()


def _service(request: Request) -> ReferralService:
    return request.app.state.service


class Decline(BaseModel):
    reason: DeclineReason
    detail: NotBlank = Field(max_length=NARRATIVE, description="Why, in the caseworker's words.")


@referrals.post("", status_code=status.HTTP_201_CREATED)
async def submit_referral(
    body: DistrictReferral, request: Request, trace: Acting
) -> dict[str, str]:
    referral_id = await hop(_service(request).receive_referral, body, "staff form", trace)
    return {"id": str(referral_id)}


@referrals.get("/by-reference/{district}/{district_reference}")
async def referral_by_reference(
    district: str, district_reference: str, request: Request
) -> dict[str, Any]:
    service = _service(request)
    referral_id = await hop(service.referral_for, district, district_reference)
    return await hop(service.get_referral, referral_id)


@referrals.get("/{referral_id}")
async def get_referral(referral_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_referral, referral_id)


@referrals.post("/{referral_id}/review", status_code=status.HTTP_204_NO_CONTENT)
async def start_review(referral_id: UUID, request: Request, trace: Acting) -> None:
    await hop(_service(request).start_review, referral_id, trace)


class Accept(BaseModel):
    caseworker: str | None = Field(
        default=None,
        description="Assign by hand, to one of the force's caseworkers (`CASEWORKERS`); if "
        "absent, to the one with the least open caseload.",
    )


class Reassign(BaseModel):
    caseworker: str = Field(min_length=1, description="One of the force's caseworkers.")
    reason: NotBlank = Field(max_length=LINE)


class Return(BaseModel):
    questions: list[Annotated[str, Field(min_length=1, max_length=LINE)]] = Field(
        min_length=1, max_length=MAX_ITEMS
    )


class Resubmit(BaseModel):
    answers: NotBlank = Field(max_length=NARRATIVE)


@referrals.get("")
async def queue(
    request: Request,
    page: Annotated[Page[QueueKey], paged(QueueKey)],
    status: str | None = None,
    district: str | None = None,
    referral_id: Annotated[
        list[UUID] | None, Query(max_length=MAX_LIMIT, description="Only these referrals.")
    ] = None,
) -> list[dict[str, Any]]:
    """The referral queue, oldest first, with each referral's wait and whether it is overdue;
    a page at a time."""
    which = (status, district, referral_id)
    now = _service(request).now()
    rows = await waiting(request.app.state.pool, *which, page.after, page.fetch, now)
    return page.of(rows, queue_key)


@contextmanager
def one_of_the_caseworkers() -> Iterator[None]:
    """A caseworker the force does not have is a bad field (422), not a conflict (409)."""
    try:
        yield
    except NotACaseworker as refused:
        error = {"type": "caseworker", "loc": ["body", "caseworker"], "msg": str(refused)}
        raise RequestValidationError([error]) from None


@referrals.post("/{referral_id}/accept")
async def accept(
    referral_id: UUID, request: Request, trace: Acting, body: Accept | None = None
) -> dict[str, str]:
    caseworker = body.caseworker if body else None
    with one_of_the_caseworkers():
        assigned = await hop(_service(request).accept_referral, referral_id, trace, caseworker)
    return {"caseworker": assigned}


@referrals.post("/{referral_id}/reassign", status_code=status.HTTP_204_NO_CONTENT)
async def reassign(referral_id: UUID, body: Reassign, request: Request, trace: Acting) -> None:
    service = _service(request)
    with one_of_the_caseworkers():
        await hop(service.reassign_referral, referral_id, body.caseworker, body.reason, trace)


@referrals.post("/{referral_id}/return", status_code=status.HTTP_204_NO_CONTENT)
async def return_for_information(
    referral_id: UUID, body: Return, request: Request, trace: Acting
) -> None:
    await hop(_service(request).return_referral, referral_id, body.questions, trace)


@referrals.post("/{referral_id}/resubmit", status_code=status.HTTP_204_NO_CONTENT)
async def resubmit(referral_id: UUID, body: Resubmit, request: Request, trace: Acting) -> None:
    await hop(_service(request).resubmit_referral, referral_id, body.answers, trace)


@referrals.post("/{referral_id}/decline", status_code=status.HTTP_204_NO_CONTENT)
async def decline(referral_id: UUID, body: Decline, request: Request, trace: Acting) -> None:
    await hop(_service(request).decline_referral, referral_id, body.reason, body.detail, trace)


candidates = APIRouter(prefix="/candidates", tags=["proactive scanning"])


class Promote(BaseModel):
    subject: ReferredSubject
    order_sought: OrderSought
    grounds: NotBlank = Field(
        max_length=NARRATIVE,
        description="Why the caseworker believes there is a risk.",
    )
    referred_on: PastDate | None = Field(
        default=None,
        description="When the caseworker made the referral, if it is being recorded later "
        "(e.g. from paper records); today when absent. Never after today.",
    )


class Counting(BaseModel):
    crime_references: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="The crimes whose candidates to count."
    )
    identified_since: Moment | None = Field(
        default=None, description="Only those flagged at or after this time."
    )


class Dismiss(BaseModel):
    reason: DismissalReason
    detail: NotBlank = Field(max_length=NARRATIVE)


@candidates.get("")
async def list_of_candidates(
    request: Request,
    page: Annotated[Page[CandidateKey], paged(CandidateKey)],
    status: str | None = None,
    crime_reference: str | None = None,
    identified_since: Annotated[
        Moment | None, Query(description="Only those flagged at or after this time.")
    ] = None,
) -> list[dict[str, Any]]:
    """Candidates flagged by screening, highest score first; a page at a time."""
    pool = request.app.state.pool
    which = (status, crime_reference, identified_since)
    rows = await list_candidates(pool, *which, page.after, page.fetch)
    return page.of(await hop(_service(request).personal.reveal, rows), candidate_key)


@candidates.post("/count")
async def count_of_candidates(body: Counting, request: Request) -> dict[str, int]:
    """How many candidates screening flagged for these crimes: what a scan of a backlog
    raised, without listing them. A query; the crimes go in the body, as many as it holds."""
    pool = request.app.state.pool
    return {"count": await count_candidates(pool, body.crime_references, body.identified_since)}


@candidates.get("/{candidate_id}")
async def get_candidate(candidate_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_candidate, candidate_id)


@candidates.post("/{candidate_id}/promote", status_code=status.HTTP_201_CREATED)
async def promote(
    candidate_id: UUID, body: Promote, request: Request, trace: Acting
) -> dict[str, str]:
    referral_id = await hop(
        _service(request).promote_candidate,
        candidate_id,
        body.subject,
        body.order_sought,
        body.grounds,
        trace,
        body.referred_on,
    )
    return {"referral_id": str(referral_id)}


@candidates.post("/{candidate_id}/dismiss", status_code=status.HTTP_204_NO_CONTENT)
async def dismiss(candidate_id: UUID, body: Dismiss, request: Request, trace: Acting) -> None:
    await hop(_service(request).dismiss_candidate, candidate_id, body.reason, body.detail, trace)


def subscribe(consumers: Consumers, service: ReferralService, settings: Settings) -> None:
    consumers.on(DistrictReferralV1, service.when_district_referral_received_record_it)
    consumers.on(DistrictDisposalV1, service.when_disposal_received_screen_it)
    consumers.on(ScreeningRulesPublishedV1, service.when_screening_rules_published_adopt_them)
    consumers.on(ApplicationOpenedV1, service.when_application_opened_note_it)
    consumers.on(ApplicationStageChangedV1, service.when_application_decided_close_it)
    consumers.on(OrderGrantedV1, service.when_order_granted_note_it)
    consumers.on(OrderExpiredV1, service.when_order_expired_note_it)


async def flag_overdue_referrals(
    service: ReferralService, settings: Settings, pool: asyncpg.Pool
) -> None:
    """Raise TriageOverdue for referrals waiting past the service level."""

    async def tick() -> None:
        now, days = settings.current_time(), settings.triage_service_level_days
        for referral_id in await possibly_overdue(pool, days, now):
            if await hop(service.flag_if_overdue, referral_id):
                log.info("referral overdue for triage", referral_id=str(referral_id))

    await every(settings.referral_check_seconds, "overdue referrals", tick)


subjects = APIRouter(prefix="/subjects", tags=["subjects"])


class Erase(BaseModel):
    nominal_id: NominalId = Field(description="The person's nominal id.")
    reason: Stated = Field(max_length=LINE, description="Why their personal data is disposed of.")


@subjects.post("/erase")
async def erase_subject(body: Erase, request: Request, trace: Acting) -> dict[str, str]:
    """Dispose of a person's personal data: record who decided it and why, then destroy the
    key it is sealed with. Refused (409) while an order against them is in force. The nominal
    goes in the body, not the path, so no log line names it."""
    service = _service(request)
    key_id = await hop(service.erase_subject, body.nominal_id, body.reason, trace)
    subject_key = SubjectRecord.create_id(body.nominal_id)
    return {"erased": "the person's key is destroyed", "key_id": str(key_id),
            "subject_key": str(subject_key)}  # fmt: skip


class Rectify(BaseModel):
    nominal_id: str = Field(min_length=1, max_length=200, description="The person's nominal id.")
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="The corrected full name."
    )
    date_of_birth: PastDate | None = Field(default=None, description="The corrected date.")
    reason: Stated = Field(max_length=LINE, description="Why it was wrong.")

    @model_validator(mode="after")
    def corrects_something(self) -> "Rectify":
        if self.name is None and self.date_of_birth is None:
            raise ValueError("give the corrected name, date of birth or both")
        return self


@subjects.post("/rectify")
async def rectify_subject(body: Rectify, request: Request, trace: Acting) -> dict[str, Any]:
    """Correct how a person was recorded (DPA 2018 s.46): the name or date of birth given
    supersedes the one recorded on every referral that names them, and on the applications
    made from them; the history keeps both. Refused (409) once their personal data has been
    disposed of; 404 when no referral names them."""
    service = _service(request)
    rectified = await hop(
        service.rectify_subject,
        body.nominal_id, body.name, body.date_of_birth, body.reason, trace,
    )  # fmt: skip
    return {"subject_key": str(SubjectRecord.create_id(body.nominal_id)),
            "referrals": [str(r) for r in rectified]}  # fmt: skip


class Nominal(BaseModel):
    nominal_id: NominalId = Field(description="The person's nominal id.")


@subjects.post("/access")
async def subject_access(body: Nominal, request: Request) -> dict[str, Any]:
    """Everything this service holds about a person, opened, and the ids of their
    applications and orders for the services that hold those: a subject access request's
    first step. 404 when nothing is held about them. A query, but the nominal goes in the
    body so that no log line names it."""
    service = _service(request)
    held = await hop(service.subject_access, body.nominal_id)
    found = []
    for disposal in held["disposals_screened"]:
        crime = disposal["crime_reference"]
        found += await list_candidates(request.app.state.pool, None, crime, None, None, MAX_LIMIT)
    # theirs by id, which their nominal makes: another suspect of the same crime (or of one
    # with the same reference in another district) is someone else, erased or not
    theirs = {Candidate.create_id(row["district"], row["crime_reference"], body.nominal_id)
              for row in found}  # fmt: skip
    ids = [row["candidate_id"] for row in found if row["candidate_id"] in theirs]
    return {**held, "candidates": [await hop(service.get_candidate, c) for c in ids]}


@subjects.get("/{nominal_id}/open-casework")
async def open_casework(nominal_id: str, request: Request) -> dict[str, list[str]]:
    """What is open for a person (by nominal id): referrals, applications, live orders."""
    return {"links": await hop(_service(request).open_casework, nominal_id)}


router = APIRouter()
router.include_router(subjects)
router.include_router(referrals)
router.include_router(candidates)
router.include_router(reviews)

definition = ServiceDefinition(
    name="referral",
    application=ReferralService,
    router=router,
    subscribe=subscribe,
    local_projections=lambda service: [
        candidates_projection(service),
        QUEUE,
        reviews_projection(service),
    ],
    tasks=lambda service, settings, pool: [
        flag_overdue_referrals(service, settings, pool),
        queue_due_reviews(service, settings, pool),
    ],
)
