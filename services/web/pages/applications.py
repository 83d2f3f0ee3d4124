"""An application: its casework, and its steps through court."""

import json
from typing import Any, Literal
from uuid import UUID

from fastapi import HTTPException, Request, Response
from starlette.datastructures import FormData

from services.web import api
from services.web.access import Admitted, may
from services.web.auth import User
from services.web.pages.common import Purpose, done, page_router, render
from services.web.pages.forms import Problem, attempt, filled, service_enum, text

router = page_router()

CASEWORK_DONE = {
    "legal-test": "Legal test saved.",
    "matter-date": "Date of the matter relied on saved.",
    "terms": "Term added to the draft order.",
    "evidence": "Evidence added to the bundle.",
    "duration": "Duration saved.",
    "submit-for-qa": "Submitted for quality assurance.",
}
COURT_DONE = {
    "return": "Returned to the caseworker with your comments.",
    "application-made": "Application to the court recorded.",
    "hearing": "Hearing listed.",
    "refuse": "The court's refusal recorded.",
}


async def application_page(
    request: Request, user: User, application_id: UUID, purpose: str, problem: Problem | None = None
) -> Response:
    application = await api.get_application(request, application_id, purpose, user)
    choices: dict[str, list[str]] = {"kinds": [], "elements": []}
    can_casework = may(user, "POST /applications/{application_id}/casework/{step}")
    if can_casework and application["stage"] == "drafting":
        choices = {
            "kinds": await service_enum(request, user, "application", "EvidenceKind"),
            "elements": await service_enum(request, user, "application", "Element"),
        }
    return render(request, user, "application.html", problem.status if problem else 200,
                  title=f"{application['order_type']} application", a=application,
                  problem=problem, today=request.app.state.settings.current_date(),
                  can_casework=can_casework, **choices)  # fmt: skip


@router.get("/applications/{application_id}", summary="read an application")
async def application(
    request: Request, application_id: UUID, user: Admitted, purpose: Purpose
) -> Response:
    return await application_page(request, user, application_id, purpose)


def casework_body(step: str, form: FormData) -> dict[str, Any] | None:
    if step in ("submit-for-qa", "quality-assurance"):
        return None
    body = filled(form, "supports", "until_further_order")
    if step == "evidence":
        body["supports"] = form.getlist("supports")
    if step == "duration":
        body["until_further_order"] = "until_further_order" in form
    return body


@router.post("/applications/{application_id}/casework/{step}", summary="prepare applications")
async def casework(
    request: Request,
    application_id: UUID,
    step: api.CaseworkStep,
    user: Admitted,
    purpose: Purpose,
) -> Response:
    form = await request.form()
    command = api.casework(request, application_id, step, user, casework_body(step, form))
    outcome = await attempt(step, form, command)
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    message = checked(outcome) if step == "quality-assurance" else CASEWORK_DONE[step]
    return done(f"/applications/{application_id}", message)


def checked(outcome: dict[str, Any]) -> str:
    """What a run of quality assurance found, as the page says it."""
    if outcome["passed"]:
        return "Quality assurance passed: the application goes to legal services."
    return f"Quality assurance did not pass: {'; '.join(outcome['missing'])}."


def granted_terms(form: FormData) -> list[dict[str, Any]]:
    """The terms the court made: those of the draft it kept, and any it added."""
    terms = [kept_term(number, str(value)) for number, value in enumerate(form.getlist("term"), 1)]
    if text(form, "added_wording"):
        terms.append({"kind": text(form, "added_kind"), "wording": text(form, "added_wording")})
    return terms


def kept_term(number: int, value: str) -> Any:
    """A term of the draft the court kept, as the form carries it (JSON); one that cannot be
    read (edited, or cut short) is refused, saying which."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        quoted = value if len(value) <= 60 else f"{value[:60]}…"
        raise HTTPException(
            422, f"term {number} of those kept from the draft could not be read: {quoted}"
        ) from None


def court_body(step: str, form: FormData) -> dict[str, Any]:
    body = filled(form, "term", "added_kind", "added_wording")
    if step == "grant":
        body = {**body, "ends_on": body.get("ends_on"), "terms": granted_terms(form)}
    return body


@router.post("/applications/{application_id}/court/{step}", summary="record court steps")
async def court(
    request: Request,
    application_id: UUID,
    step: Literal["return", "application-made", "hearing", "grant", "refuse"],
    user: Admitted,
    purpose: Purpose,
) -> Response:
    form = await request.form()

    async def command() -> Any:  # the body read in it: a term not read is refused as the rest
        return await api.court(request, application_id, step, court_body(step, form), user)

    outcome = await attempt(step, form, command())
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    message = COURT_DONE.get(step, "")
    if step == "grant":
        message = (f"The court granted order {outcome['order_reference']}; it is allocated to "
                   "the district's MOSOVO team, which is alerted.")  # fmt: skip
    return done(f"/applications/{application_id}", message)
