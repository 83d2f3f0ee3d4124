"""The breach service process: breach reports by HTTP and from districts, possible breaches
it noticed for teams to confirm or dismiss, and its order view."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from plumbing.consumer import Consumers
from plumbing.eventstore import hop
from plumbing.http import Acting
from plumbing.paging import Page, paged
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from schemas.application import (
    OrderAllocatedV1,
    OrderExpiredV1,
    OrderGrantedV1,
    OrderNotificationOverdueV1,
    OrderNotificationRecordedV1,
    OrderReallocatedV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.common import LINE, NotBlank
from schemas.district import DistrictBreachReport, DistrictBreachReportV1
from services.breach.application import BreachService
from services.breach.domain import BreachOutcome, PossibleBreachStatus
from services.breach.possible import (
    ORDER_TEAMS,
    POSSIBLE_BREACHES,
    PossibleKey,
    possible_breaches,
    possible_key,
)

router = APIRouter(tags=["breaches"])


def _service(request: Request) -> BreachService:
    return request.app.state.service


@router.post("/breaches", status_code=status.HTTP_201_CREATED)
async def report_breach(
    body: DistrictBreachReport, request: Request, trace: Acting
) -> dict[str, Any]:
    service = _service(request)
    breach_id = await hop(service.record_breach, body, trace)
    return await hop(service.get_breach, breach_id)


class RecordOutcome(BaseModel):
    outcome: BreachOutcome
    sentence: str | None = Field(
        default=None,
        min_length=1,
        max_length=LINE,
        description="Required on conviction, and only then.",
    )


@router.post("/breaches/{breach_id}/outcome", status_code=status.HTTP_204_NO_CONTENT)
async def record_outcome(
    breach_id: UUID, body: RecordOutcome, request: Request, trace: Acting
) -> None:
    await hop(
        _service(request).record_breach_outcome, breach_id, body.outcome, body.sentence, trace
    )


@router.get("/breaches/{breach_id}")
async def get_breach(breach_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_breach, breach_id)


@router.get("/orders/{reference}")
async def get_known_order(reference: str, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_known_order, reference)


@router.get("/possible-breaches")
async def list_possible_breaches(
    request: Request,
    page: Annotated[Page[PossibleKey], paged(PossibleKey)],
    team: str | None = None,
    status: PossibleBreachStatus | None = None,
    order_reference: str | None = None,
) -> list[dict[str, Any]]:
    """What may be a breach, oldest first, for the managing team to confirm or dismiss."""
    pool = request.app.state.pool
    rows = await possible_breaches(pool, team, status, order_reference, page.after, page.fetch)
    return page.of(rows, possible_key)


@router.get("/possible-breaches/{possible_breach_id}")
async def get_possible_breach(possible_breach_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_possible_breach, possible_breach_id)


@router.post("/possible-breaches/{possible_breach_id}/confirm", status_code=201)
async def confirm_possible_breach(
    possible_breach_id: UUID, request: Request, trace: Acting
) -> dict[str, Any]:
    """It is a breach: recorded against the order as any breach is."""
    service = _service(request)
    breach_id = await hop(service.confirm_possible_breach, possible_breach_id, trace)
    return await hop(service.get_breach, breach_id)


class Dismiss(BaseModel):
    reason: NotBlank = Field(max_length=LINE, examples=["notified in time at another station"])


@router.post("/possible-breaches/{possible_breach_id}/dismiss", status_code=204)
async def dismiss_possible_breach(
    possible_breach_id: UUID, body: Dismiss, request: Request, trace: Acting
) -> None:
    service = _service(request)
    await hop(service.dismiss_possible_breach, possible_breach_id, body.reason, trace)


def subscribe(consumers: Consumers, service: BreachService, settings: Settings) -> None:
    consumers.on(OrderGrantedV1, service.when_order_granted_register_it)
    consumers.on(OrderAllocatedV1, service.when_order_allocated_note_team)
    consumers.on(OrderReallocatedV1, service.when_order_reallocated_note_team)
    consumers.on(OrderVariedV1, service.when_order_varied_note_terms)
    consumers.on(OrderExpiredV1, service.when_order_expired_note_its_end)
    consumers.on(OrderRenewedV1, service.when_order_renewed_note_its_end)
    consumers.on(
        OrderNotificationRecordedV1, service.when_change_notified_late_raise_possible_breach
    )
    consumers.on(DistrictBreachReportV1, service.when_district_breach_reported_record_it)
    consumers.on(
        OrderNotificationOverdueV1, service.when_notification_overdue_raise_possible_breach
    )


definition = ServiceDefinition(
    name="breach",
    application=BreachService,
    router=router,
    subscribe=subscribe,
    local_projections=lambda service: [POSSIBLE_BREACHES, ORDER_TEAMS],
)
