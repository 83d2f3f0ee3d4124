"""The referral service process: HTTP intake and triage, and the district referral consumer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from plumbing.consumer import Consumers
from plumbing.eventstore import Trace, hop
from plumbing.http import request_trace
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from schemas.common import OrderSought
from schemas.common import Subject as WireSubject
from schemas.district import DistrictDisposalV1, DistrictReferral, DistrictReferralV1
from services.referral.application import ReferralService
from services.referral.candidates import candidates_projection, list_candidates
from services.referral.domain import DeclineReason, DismissalReason
from services.referral.wire import to_wire

referrals = APIRouter(prefix="/referrals", tags=["referrals"])
Acting = Annotated[Trace, Depends(request_trace)]


def _service(request: Request) -> ReferralService:
    return request.app.state.service


class Decline(BaseModel):
    reason: DeclineReason
    detail: str = Field(min_length=1, description="Why, in the caseworker's words.")


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


@referrals.post("/{referral_id}/accept", status_code=status.HTTP_204_NO_CONTENT)
async def accept(referral_id: UUID, request: Request, trace: Acting) -> None:
    await hop(_service(request).accept_referral, referral_id, trace)


@referrals.post("/{referral_id}/decline", status_code=status.HTTP_204_NO_CONTENT)
async def decline(referral_id: UUID, body: Decline, request: Request, trace: Acting) -> None:
    await hop(_service(request).decline_referral, referral_id, body.reason, body.detail, trace)


candidates = APIRouter(prefix="/candidates", tags=["proactive scanning"])


class Promote(BaseModel):
    subject: WireSubject
    order_sought: OrderSought
    grounds: str = Field(min_length=1, description="Why the caseworker believes there is a risk.")


class Dismiss(BaseModel):
    reason: DismissalReason
    detail: str = Field(min_length=1)


@candidates.get("")
async def list_of_candidates(
    request: Request, status: str | None = None, crime_reference: str | None = None
) -> list[dict[str, Any]]:
    """Candidates flagged by screening, highest score first."""
    return await list_candidates(request.app.state.pool, status, crime_reference)


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
    )
    return {"referral_id": str(referral_id)}


@candidates.post("/{candidate_id}/dismiss", status_code=status.HTTP_204_NO_CONTENT)
async def dismiss(candidate_id: UUID, body: Dismiss, request: Request, trace: Acting) -> None:
    await hop(_service(request).dismiss_candidate, candidate_id, body.reason, body.detail, trace)


def subscribe(consumers: Consumers, service: ReferralService, settings: Settings) -> None:
    consumers.on(DistrictReferralV1, service.when_district_referral_received_record_it)
    consumers.on(DistrictDisposalV1, service.when_disposal_received_screen_it)


router = APIRouter()
router.include_router(referrals)
router.include_router(candidates)

definition = ServiceDefinition(
    name="referral",
    application=ReferralService,
    to_wire=to_wire,
    router=router,
    subscribe=subscribe,
    followers=lambda service, settings: [candidates_projection(service)],
)
