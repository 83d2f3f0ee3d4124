"""Outreach: the sessions held for districts' staff, and recording one."""

from typing import Any

from fastapi import HTTPException, Request, Response, status
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.web import api_outreach
from services.web.access import Admitted, may
from services.web.api_outreach import OutreachSessionHeld, Recorded
from services.web.auth import User
from services.web.pages.common import done, page_router, render
from services.web.pages.forms import Problem, attempt, caught_up, filled

router = page_router()
RECORD = "POST /outreach"


async def outreach_page(request: Request, user: User, problem: Problem | None = None) -> Response:
    sessions = await api_outreach.outreach_sessions(request, user)
    return render(request, user, "outreach.html", problem.status if problem else 200,
                  title="Outreach", sessions=sessions, can_record=may(user, RECORD),
                  today=request.app.state.settings.current_date(), problem=problem)  # fmt: skip


@router.get("/outreach", summary="open the outreach sessions")
async def outreach(request: Request, user: Admitted) -> Response:
    return await outreach_page(request, user)


async def _record(request: Request, form: FormData, user: User) -> Recorded:
    try:
        body = OutreachSessionHeld.model_validate(filled(form))
    except ValidationError as error:
        detail: Any = error.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail) from None
    return await api_outreach.record_outreach_session(request, body, user)


@router.post("/outreach", summary="record an outreach session")
async def record(request: Request, user: Admitted) -> Response:
    form = await request.form()
    outcome = await attempt("outreach", form, _record(request, form, user))
    if isinstance(outcome, Problem):
        return await outreach_page(request, user, outcome)

    async def shown() -> bool:
        listed = await api_outreach.outreach_sessions(request, user)
        return any(s["session_id"] == str(outcome.session_id) for s in listed)

    await caught_up(shown)
    return done("/outreach", f"Outreach session recorded: {form['district']}, {form['held_on']}.")
