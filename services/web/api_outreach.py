"""Outreach sessions ("roadshows") held for districts' staff: recorded in the web app's own
event store and published on `web.outreach.v1`; listed from the read models."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from plumbing.configuration import team_directory
from plumbing.eventstore import hop
from plumbing.paging import MAX_LIMIT, ForwardedPage
from schemas.dates import PastDate
from schemas.envelope import Contract
from schemas.trace import Trace
from services.web.access import Admitted
from services.web.api import Paged, call_page
from services.web.auth import User

router = APIRouter(prefix="/api", tags=["outreach"])


class OutreachSessionHeld(Contract):
    district: str = Field(
        min_length=1, max_length=60, description="District or BCU code.", examples=["north"]
    )
    held_on: PastDate = Field(description="The day it was held: not in the future.")
    audience: str = Field(
        min_length=1, max_length=200, description="Who attended.",
        examples=["north BCU response officers"],
    )  # fmt: skip
    notes: str = Field("", max_length=2000, description="Never case details.")


class Recorded(BaseModel):
    session_id: UUID


@router.post("/outreach", status_code=status.HTTP_201_CREATED)
async def record_outreach_session(
    request: Request, body: OutreachSessionHeld, user: Admitted
) -> Recorded:
    """Record an outreach session held for a district's staff, one of the districts in the
    team directory in force; the same district, day and audience again is the same session."""
    await _known_district(request, body.district)
    trace = Trace(user.actor, request.state.correlation_id)
    record = request.app.state.service.record_outreach_session
    session_id = await hop(record, body.district, body.held_on, body.audience, body.notes, trace)
    return Recorded(session_id=session_id)


async def _known_district(request: Request, district: str) -> None:
    """A session is set beside its district's own referrals: one no team has would match none."""
    directory = await hop(team_directory, request.app.state.service)
    if directory.team_for_district(district.strip()) is None:  # the session keeps it stripped
        known = ", ".join(directory.districts())
        msg = f"{district!r} is not one of the force's districts: {known}"
        error = {"type": "value_error", "loc": ["body", "district"], "msg": msg}
        raise HTTPException(422, [error])


@router.get("/outreach")
async def list_outreach_sessions(
    request: Request, user: Admitted, page: Paged, district: str | None = None
) -> Any:
    """Outreach sessions recorded, newest first (of one district, or all); a page at a time."""
    return await call_page(request, user, page, "readmodels", "/outreach", district=district)


async def outreach_sessions(request: Request, user: User) -> list[Any]:
    """Every outreach session recorded, newest first, page after page: the outreach page's."""
    sessions: list[Any] = []
    cursor = None
    while True:
        page = ForwardedPage(MAX_LIMIT, cursor)
        sessions += await list_outreach_sessions(request, user, page)
        if (cursor := page.next_cursor) is None:
            return sessions
