"""The application service process: HTTP casework commands and the accepted-referral consumer."""

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from plumbing.consumer import Consumers
from plumbing.eventstore import Trace, hop
from plumbing.http import request_trace
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from schemas.common import Term as WireTerm
from schemas.referral import ReferralAcceptedV1
from services.application.application import ApplicationService
from services.application.calendar import calendar_projection, orders_due
from services.application.domain import Term
from services.application.wire import to_wire

router = APIRouter(tags=["applications"])
Acting = Annotated[Trace, Depends(request_trace)]
log = structlog.get_logger()


def _service(request: Request) -> ApplicationService:
    return request.app.state.service


class GrantOrder(BaseModel):
    court: str = Field(min_length=1, examples=["Northtown Magistrates' Court"])
    made_on: date
    ends_on: date | None = Field(description="Absent for an order until further order.")
    terms: list[WireTerm] = Field(min_length=1)


@router.get("/applications/by-referral/{referral_id}")
async def application_for_referral(referral_id: UUID, request: Request) -> dict[str, Any]:
    service = _service(request)
    application_id = await hop(service.application_for_referral, referral_id)
    return await hop(service.get_application, application_id)


@router.get("/applications/{application_id}")
async def get_application(application_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_application, application_id)


@router.post("/applications/{application_id}/grant", status_code=status.HTTP_201_CREATED)
async def grant_order(
    application_id: UUID, body: GrantOrder, request: Request, trace: Acting
) -> dict[str, str]:
    terms = [Term(t.kind, t.wording, t.until) for t in body.terms]
    reference = await hop(
        _service(request).grant_order,
        application_id,
        body.court,
        body.made_on,
        body.ends_on,
        terms,
        trace,
    )
    return {"order_reference": reference}


class Reallocate(BaseModel):
    team: str = Field(min_length=1, description="Team id from the team directory.")
    reason: str = Field(min_length=1, examples=["subject moved to the east district"])


@router.post("/orders/{order_id}/reallocate", status_code=status.HTTP_204_NO_CONTENT)
async def reallocate(order_id: UUID, body: Reallocate, request: Request, trace: Acting) -> None:
    await hop(_service(request).reallocate_order, order_id, body.team, body.reason, trace)


class Vary(BaseModel):
    varied_on: date
    ends_on: date | None = Field(description="Absent for an order until further order.")
    terms: list[WireTerm] = Field(min_length=1, description="The terms as the court varied them.")


@router.post("/orders/{order_id}/vary", status_code=status.HTTP_204_NO_CONTENT)
async def vary(order_id: UUID, body: Vary, request: Request, trace: Acting) -> None:
    terms = [Term(t.kind, t.wording, t.until) for t in body.terms]
    await hop(_service(request).vary_order, order_id, body.varied_on, body.ends_on, terms, trace)


@router.get("/orders/{order_id}")
async def get_order(order_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_order, order_id)


def subscribe(consumers: Consumers, service: ApplicationService, settings: Settings) -> None:
    consumers.on(ReferralAcceptedV1, service.when_referral_accepted_open_application)


async def keep_the_calendar(
    service: ApplicationService, settings: Settings, pool: asyncpg.Pool
) -> None:
    """A timer: raise renewal reviews and expiries as orders reach them."""
    while True:
        try:
            today = datetime.now(UTC).date()
            for order_id in await orders_due(pool, today, settings.renewal_review_months):
                raised = await hop(service.keep_order_calendar, order_id, today)
                if raised:
                    log.info("order calendar", order_id=str(order_id), raised=raised)
        except (OSError, asyncpg.PostgresError):
            log.exception("could not read the order calendar; will look again")
        await asyncio.sleep(settings.order_calendar_check_seconds)


definition = ServiceDefinition(
    name="application",
    application=ApplicationService,
    to_wire=to_wire,
    router=router,
    subscribe=subscribe,
    followers=lambda service, settings: [calendar_projection(service)],
    tasks=lambda service, settings, pool: [keep_the_calendar(service, settings, pool)],
)
