"""MoPI review: the people due for review, and a reviewer's decision on each."""

from typing import Literal
from uuid import UUID

from fastapi import Request, Response

from plumbing.paging import Cursor, ForwardedPage
from services.web import api_records
from services.web.access import Admitted, may
from services.web.auth import User
from services.web.pages.common import done, next_page, page_router, render
from services.web.pages.forms import Problem, attempt, text

router = page_router()
DECIDE = "POST /reviews/{subject_key}/{decision}"


async def reviews_page(
    request: Request, user: User, problem: Problem | None = None, cursor: str | None = None
) -> Response:
    page = ForwardedPage(cursor=cursor)
    rows = await api_records.review_queue(request, user, page, "due")
    return render(request, user, "reviews.html", problem.status if problem else 200,
                  title="Reviews due", rows=rows, can_decide=may(user, DECIDE),
                  today=request.app.state.settings.current_date(), problem=problem,
                  next_page=next_page(request, page))  # fmt: skip


@router.get("/reviews", summary="open the MoPI reviews due")
async def reviews(request: Request, user: Admitted, cursor: Cursor = None) -> Response:
    return await reviews_page(request, user, None, cursor)


@router.post("/reviews/{subject_key}/{decision}", summary="decide a MoPI review")
async def decide(
    request: Request, subject_key: UUID, decision: Literal["retain", "dispose"], user: Admitted
) -> Response:
    form = await request.form()
    body = {"reason": text(form, "reason")}
    if decision == "retain":
        body["next_review_on"] = text(form, "next_review_on")
    command = api_records.decide_review(request, subject_key, decision, body, user)
    outcome = await attempt(f"{decision}-{subject_key}", form, command)
    if isinstance(outcome, Problem):
        return await reviews_page(request, user, outcome)
    who = text(form, "who") or "The person"
    if decision == "retain":
        return done("/reviews", f"{who}: record kept; next review {body['next_review_on']}.")
    return done("/reviews", f"{who}: personal data disposed of; it now reads as erased.")
