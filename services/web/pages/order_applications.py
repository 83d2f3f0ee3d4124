"""An application about an order (to vary, renew or discharge it): its drafting, quality
assurance and steps through court, and the list of those in progress."""

from typing import Any
from uuid import UUID

from fastapi import Request, Response
from starlette.datastructures import FormData

from plumbing.paging import Cursor, ForwardedPage
from services.web import api
from services.web.access import Admitted, may
from services.web.auth import User
from services.web.pages.applications import checked
from services.web.pages.common import Purpose, done, next_page, page_router, render
from services.web.pages.forms import Problem, attempt, filled, text
from services.web.pages.orders import in_register

router = page_router()

CASEWORK = "POST /order-applications/{application_id}/casework/{step}"
VERBS = {"variation": "vary", "renewal": "renew", "discharge": "discharge"}
# the reasons each drafting step sends even when left empty: quality assurance, not the form,
# says what is missing
REASONS = {"term-changes": "reason", "renewal-case": "why_risk_remains",
           "police-response": "reasons"}  # fmt: skip
CASEWORK_DONE = {
    "term-changes": "Term change saved.",
    "renewal-case": "Renewal case saved.",
    "police-response": "Police response saved.",
    "submit-for-qa": "Submitted for quality assurance.",
}
COURT_DONE = {
    "return": "Returned to the caseworker with your comments.",
    "application-made": "Application to the court recorded.",
    "hearing": "Hearing listed.",
    "adjourn": "Adjournment recorded: the hearing is on the new date.",
    "refuse": "The court's refusal recorded.",
}
GRANTED = {
    "variation": "its terms are varied as the application asked",
    "renewal": "it is renewed to its new end",
    "discharge": "it is discharged",
}


@router.get("/order-applications", summary="read the applications about orders")
async def order_applications(request: Request, user: Admitted, cursor: Cursor = None) -> Response:
    page = ForwardedPage(cursor=cursor)
    rows = await api.list_order_applications(request, user, page, None, True)
    return render(request, user, "order_applications.html", title="Applications about orders",
                  rows=rows, next_page=next_page(request, page))  # fmt: skip


def page_of(application_id: UUID) -> str:
    return f"/order-applications/{application_id}"


async def application_page(
    request: Request, user: User, application_id: UUID, purpose: str, problem: Problem | None = None
) -> Response:
    application = await api.get_order_application(request, application_id, purpose, user)
    order = await in_register(request, user, application["order_reference"])
    title = f"Application to {VERBS[application['kind']]} order {application['order_reference']}"
    return render(request, user, "order_application.html", problem.status if problem else 200,
                  title=title, a=application, order=order, problem=problem,
                  today=request.app.state.settings.current_date(),
                  can_casework=may(user, CASEWORK))  # fmt: skip


@router.get("/order-applications/{application_id}", summary="read an application about an order")
async def application(
    request: Request, application_id: UUID, user: Admitted, purpose: Purpose
) -> Response:
    return await application_page(request, user, application_id, purpose)


def casework_body(step: str, form: FormData) -> dict[str, Any] | None:
    if step not in REASONS:  # submitting for QA, running it
        return None
    body = filled(form, "until_further_order") | {REASONS[step]: text(form, REASONS[step])}
    if step == "renewal-case":
        body["until_further_order"] = "until_further_order" in form
    return body


@router.post("/order-applications/{application_id}/casework/{step}",
             summary="prepare applications about orders")
async def casework(
    request: Request,
    application_id: UUID,
    step: api.OrderCaseworkStep,
    user: Admitted,
    purpose: Purpose,
) -> Response:
    form = await request.form()
    command = api.order_casework(request, application_id, step, user, casework_body(step, form))
    outcome = await attempt(step, form, command)
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    message = checked(outcome) if step == "quality-assurance" else CASEWORK_DONE[step]
    return done(page_of(application_id), message)


@router.post("/order-applications/{application_id}/court/{step}", summary="record court steps")
async def court(
    request: Request,
    application_id: UUID,
    step: api.OrderCourtStep,
    user: Admitted,
    purpose: Purpose,
) -> Response:
    form = await request.form()
    command = api.order_court(request, application_id, step, filled(form, "kind"), user)
    outcome = await attempt(step, form, command)
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    if step == "grant":
        said = GRANTED.get(text(form, "kind"), "it is changed as the application asked")
        return done(page_of(application_id), f"The court's grant recorded: {said}.")
    return done(page_of(application_id), COURT_DONE[step])


@router.post("/order-applications/{application_id}/withdraw", summary="withdraw applications")
async def withdraw(
    request: Request, application_id: UUID, user: Admitted, purpose: Purpose
) -> Response:
    form = await request.form()
    command = api.withdraw_order_application(request, application_id, filled(form), user)
    outcome = await attempt("withdraw", form, command)
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    return done(page_of(application_id), "The application is withdrawn.")
