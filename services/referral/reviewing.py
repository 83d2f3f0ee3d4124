"""MoPI review, at the referral service's edge: the queue of people due for review, a
reviewer's decision (retain until a next date, or dispose), and the clock's look for reviews
falling due."""

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from plumbing.eventstore import hop
from plumbing.http import Acting
from plumbing.paging import Page, paged
from plumbing.settings import Settings
from plumbing.timers import every
from schemas.common import LINE, Stated
from services.referral.application import ReferralService
from services.referral.reviews import (
    ReviewKey,
    falling_due,
    list_reviews,
    review_key,
    unscheduled,
)

reviews = APIRouter(prefix="/reviews", tags=["MoPI review"])
log = structlog.get_logger()


def _service(request: Request) -> ReferralService:
    return request.app.state.service


class Retain(BaseModel):
    reason: Stated = Field(max_length=LINE, description="Why the record is still necessary.")
    next_review_on: date = Field(description="When it is next reviewed: after today.")


class Dispose(BaseModel):
    reason: Stated = Field(max_length=LINE, description="Why the personal data is disposed of.")


@reviews.get("")
async def review_queue(
    request: Request,
    page: Annotated[Page[ReviewKey], paged(ReviewKey)],
    state: Literal["due", "scheduled"] = "due",
) -> list[dict[str, Any]]:
    """People whose record is due for review (or, `state=scheduled`, waiting for its date),
    longest due first, with their review group; a page at a time."""
    rows = await list_reviews(request.app.state.pool, state, page.after, page.fetch)
    return page.of(await hop(_service(request).personal.reveal, rows), review_key)


@reviews.get("/{subject_key}")
async def get_review(subject_key: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_review, subject_key)


@reviews.post("/{subject_key}/retain", status_code=status.HTTP_204_NO_CONTENT)
async def retain(subject_key: UUID, body: Retain, request: Request, trace: Acting) -> None:
    """Keep the record, saying why, until the next review. Only a record due for review."""
    service = _service(request)
    await hop(service.retain_on_review, subject_key, body.reason, body.next_review_on, trace)


@reviews.post("/{subject_key}/dispose")
async def dispose(subject_key: UUID, body: Dispose, request: Request, trace: Acting) -> Any:
    """Dispose of the person's personal data: the decision is recorded, then their key is
    destroyed. Only a record due for review; refused (409) while an order against them is in
    force or casework about them is open."""
    key_id = await hop(_service(request).dispose_on_review, subject_key, body.reason, trace)
    return {"erased": "the person's key is destroyed", "key_id": str(key_id),
            "subject_key": str(subject_key)}  # fmt: skip


async def queue_due_reviews(
    service: ReferralService, settings: Settings, pool: asyncpg.Pool
) -> None:
    """Queue for review every record whose review date has come, by the services' clock."""

    async def tick() -> None:
        for subject_key in await unscheduled(pool):
            await hop(service.schedule_first_review, subject_key)
        for subject_key in await falling_due(pool, settings.current_date()):
            if await hop(service.queue_review_if_due, subject_key):
                log.info("record due for review", subject_key=str(subject_key))

    await every(settings.review_check_seconds, "reviews due", tick)
