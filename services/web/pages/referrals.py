"""The referral queue (triage) and referring a person."""

from collections.abc import Awaitable
from typing import Any, Literal
from uuid import UUID

from fastapi import Request, Response
from starlette.datastructures import FormData

from plumbing.paging import Cursor, ForwardedPage
from services.web import api, api_records
from services.web.access import Admitted, may
from services.web.auth import User
from services.web.pages.common import districts, done, next_page, page_router, person, render
from services.web.pages.forms import Problem, attempt, caught_up, lines, service_enum, text

router = page_router()


def queue_row(case: dict[str, Any], waiting: dict[str, Any] | None, level: int) -> dict[str, Any]:
    """A caseload row with the referral service's fresher triage state and its wait."""
    state = waiting["status"] if waiting and not case.get("application_id") else case["state"]
    days = waiting["hours_waiting"] / 24 if waiting else case.get("age_days") or 0
    awaiting = state in ("received", "under review")
    over = awaiting and (bool(waiting and waiting["overdue"]) or days > level)
    return {**case, "state": state, "awaiting": awaiting, "days": int(days), "over_level": over}


async def referrals_in_queue(request: Request, user: User, ids: list[UUID]) -> Any:
    """These referrals as the referral service's queue has them now (a triager's look)."""
    return await api.call_page(request, user, ForwardedPage(), "referral", "/referrals",
                               referral_id=ids)  # fmt: skip


async def queue_page(
    request: Request, user: User, problem: Problem | None = None, cursor: str | None = None
) -> Response:
    """A page of the caseload, each referral with the referral service's fresher triage state
    (the read models follow it a moment behind)."""
    level = request.app.state.settings.triage_service_level_days
    page = ForwardedPage(cursor=cursor)
    cases = await api_records.caseload(request, user, page)
    ids = [UUID(str(case["referral_id"])) for case in cases]
    queued = await referrals_in_queue(request, user, ids) if ids else []
    waiting = {str(r["referral_id"]): r for r in queued}
    rows = [queue_row(c, waiting.get(str(c["referral_id"])), level) for c in cases]
    can_triage, reasons = may(user, "POST /queue/{referral_id}/{action}"), []
    if can_triage:
        reasons = await service_enum(request, user, "referral", "DeclineReason")
    return render(request, user, "queue.html", problem.status if problem else 200,
                  title="Referral queue", rows=rows, level=level, reasons=reasons,
                  can_triage=can_triage, overdue=[r for r in rows if r["over_level"]],
                  problem=problem, next_page=next_page(request, page))  # fmt: skip


@router.get("/queue", summary="open the referral queue")
async def queue(request: Request, user: Admitted, cursor: Cursor = None) -> Response:
    return await queue_page(request, user, None, cursor)


@router.post("/queue/{referral_id}/{action}", summary="triage referrals")
async def triage(
    request: Request,
    referral_id: UUID,
    action: Literal["review", "accept", "decline"],
    user: Admitted,
) -> Response:
    form = await request.form()
    reference = text(form, "reference") or str(referral_id)
    command: Awaitable[Any]
    if action == "review":
        command, message = api.review(request, referral_id, user), f"Review of {reference} started."
    elif action == "accept":
        mine = {"caseworker": user.actor} if text(form, "assign") == "me" else None
        command = api.accept(request, referral_id, user, mine)
        message = f"{reference} accepted; its application opens in a moment."
    else:
        body = {"reason": text(form, "reason"), "detail": text(form, "detail")}
        command = api.triage(request, referral_id, "decline", body, user)
        message = f"{reference} declined: {body['reason']}."
    outcome = await attempt(f"{action}-{referral_id}", form, command)
    if isinstance(outcome, Problem):
        return await queue_page(request, user, outcome)

    async def shown() -> bool:
        rows = await referrals_in_queue(request, user, [referral_id])
        after = {"review": "under review", "accept": "accepted", "decline": "declined"}[action]
        return any(r["referral_id"] == str(referral_id) and r["status"] == after for r in rows)

    await caught_up(shown)
    if isinstance(outcome, dict) and outcome.get("caseworker"):
        message = f"{message[:-1]} (assigned to {person(request, outcome['caseworker'])})."
    return done("/queue", message)


# Referrals ------------------------------------------------------------------------------


async def referral_page(
    request: Request, user: User, problem: Problem | None = None
) -> Response:
    return render(request, user, "referral.html", problem.status if problem else 200,
                  title="Refer a person", districts=await districts(request, user),
                  problem=problem)  # fmt: skip


def referral_body(form: FormData) -> dict[str, Any]:
    return {
        "district": text(form, "district"),
        "district_reference": text(form, "district_reference"),
        "referring_officer": text(form, "referring_officer"),
        "subject": {
            "nominal_id": text(form, "nominal_id"),
            "name": text(form, "subject_name"),
            "date_of_birth": text(form, "date_of_birth"),
        },
        "order_sought": text(form, "order_sought"),
        "grounds": text(form, "grounds"),
        "crime_references": lines(text(form, "crime_references")),
        "previous_convictions": lines(text(form, "previous_convictions")),
    }


@router.get("/referrals/new", summary="refer a person")
async def referral_form(request: Request, user: Admitted) -> Response:
    return await referral_page(request, user)


@router.post("/referrals/new", summary="refer a person")
async def refer(request: Request, user: Admitted) -> Response:
    form = await request.form()
    body = referral_body(form)
    outcome = await attempt("referral", form, api.submit_referral(request, body, user))
    if isinstance(outcome, Problem):
        return await referral_page(request, user, outcome)
    return done("/", f"Referral {body['district_reference']} sent; recorded as {outcome['id']}.")
