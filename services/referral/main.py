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
from schemas.district import DistrictReferral, DistrictReferralV1
from services.referral.application import ReferralService
from services.referral.domain import DeclineReason
from services.referral.wire import to_wire

router = APIRouter(prefix="/referrals", tags=["referrals"])
Acting = Annotated[Trace, Depends(request_trace)]


def _service(request: Request) -> ReferralService:
    return request.app.state.service


class Decline(BaseModel):
    reason: DeclineReason
    detail: str = Field(min_length=1, description="Why, in the caseworker's words.")


@router.post("", status_code=status.HTTP_201_CREATED)
async def submit_referral(
    body: DistrictReferral, request: Request, trace: Acting
) -> dict[str, str]:
    referral_id = await hop(_service(request).receive_referral, body, "staff form", trace)
    return {"id": str(referral_id)}


@router.get("/by-reference/{district}/{district_reference}")
async def referral_by_reference(
    district: str, district_reference: str, request: Request
) -> dict[str, Any]:
    service = _service(request)
    referral_id = await hop(service.referral_for, district, district_reference)
    return await hop(service.get_referral, referral_id)


@router.get("/{referral_id}")
async def get_referral(referral_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_referral, referral_id)


@router.post("/{referral_id}/review", status_code=status.HTTP_204_NO_CONTENT)
async def start_review(referral_id: UUID, request: Request, trace: Acting) -> None:
    await hop(_service(request).start_review, referral_id, trace)


@router.post("/{referral_id}/accept", status_code=status.HTTP_204_NO_CONTENT)
async def accept(referral_id: UUID, request: Request, trace: Acting) -> None:
    await hop(_service(request).accept_referral, referral_id, trace)


@router.post("/{referral_id}/decline", status_code=status.HTTP_204_NO_CONTENT)
async def decline(referral_id: UUID, body: Decline, request: Request, trace: Acting) -> None:
    await hop(_service(request).decline_referral, referral_id, body.reason, body.detail, trace)


def subscribe(consumers: Consumers, service: ReferralService, settings: Settings) -> None:
    consumers.on(DistrictReferralV1, service.when_district_referral_received_record_it)


definition = ServiceDefinition(
    name="referral",
    application=ReferralService,
    to_wire=to_wire,
    router=router,
    subscribe=subscribe,
)
