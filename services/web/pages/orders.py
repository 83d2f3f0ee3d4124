"""The order register and the alert inbox."""

from typing import Any, Literal
from uuid import UUID

from fastapi import HTTPException, Request, Response
from starlette.datastructures import FormData

from plumbing.configuration import team_directory
from plumbing.eventstore import hop
from plumbing.paging import Cursor, ForwardedPage
from schemas.application import Applicant, NotificationKind, OrderApplicationKind
from services.web import api
from services.web.access import Admitted
from services.web.auth import User
from services.web.pages.common import (
    Purpose,
    districts,
    done,
    next_page,
    page_router,
    render,
)
from services.web.pages.forms import Problem, attempt, caught_up, filled, lines, text

router = page_router()


@router.get("/orders", summary="read the order register")
async def orders(
    request: Request,
    user: Admitted,
    include_ended: bool = False,
    renewal_due: bool = False,
    national_record_pending: bool = False,
    cursor: Cursor = None,
) -> Response:
    return await orders_page(
        request, user, include_ended, renewal_due, national_record_pending, cursor
    )


async def orders_page(
    request: Request,
    user: User,
    include_ended: bool = False,
    renewal_due: bool = False,
    national_record_pending: bool = False,
    cursor: Cursor = None,
    problem: Problem | None = None,
) -> Response:
    page = ForwardedPage(cursor=cursor)
    rows = await api.order_register(
        request, user, page, include_ended=include_ended, renewal_due=renewal_due or None,
        national_record_pending=national_record_pending or None,
    )  # fmt: skip
    due = await api.order_register(request, user, ForwardedPage(), renewal_due=True)
    overdue = await api.order_register(request, user, ForwardedPage(), notification_overdue=True)
    possible = await api.possible_breaches(request, user, ForwardedPage(), "to confirm or dismiss")
    return render(request, user, "orders.html", problem.status if problem else 200,
                  title="Order register", rows=rows,
                  include_ended=include_ended, renewal_due=renewal_due, due=due,
                  overdue=overdue, possible=possible,
                  national_record_pending=national_record_pending,
                  districts=await districts(request, user), problem=problem,
                  next_page=next_page(request, page))  # fmt: skip


def conviction_order(form: FormData) -> dict[str, Any]:
    """The court's order as the form gives it: each line of its prohibitions and of its
    requirements a term lasting as long as the order (terms of their own periods go
    through the API)."""
    body = filled(form, "prohibitions", "requirements")
    terms = [
        {"kind": kind, "wording": wording}
        for kind, field in (("prohibition", "prohibitions"), ("requirement", "requirements"))
        for wording in lines(text(form, field))
    ]
    return {**body, "ends_on": body.get("ends_on"), "terms": terms}


@router.post("/orders/made-on-conviction", summary="record SHPOs made on conviction")
async def record_order_made_on_conviction(request: Request, user: Admitted) -> Response:
    form = await request.form()
    command = api.record_order_made_on_conviction(request, conviction_order(form), user)
    outcome = await attempt("conviction", form, command)
    if isinstance(outcome, Problem):
        return await orders_page(request, user, problem=outcome)
    reference = outcome["order_reference"]
    return done("/orders", f"The SHPO made on conviction is recorded as {reference}; it is "
                "allocated to the district's MOSOVO team, which is alerted.")  # fmt: skip


async def national_record_page(
    request: Request, user: User, state: api.TaskState | None, problem: Problem | None = None
) -> Response:
    rows = await api.national_record(request, user, ForwardedPage(), state)
    return render(request, user, "national_record.html", problem.status if problem else 200,
                  title="National record", rows=rows, state=state,
                  problem=problem)  # fmt: skip


@router.get("/national-record", summary="read the national record queue")
async def national_record(
    request: Request, user: Admitted, state: api.TaskState | None = None
) -> Response:
    return await national_record_page(request, user, state)


@router.post("/national-record/{order_id}/{task_id}", summary="acknowledge national record updates")
async def acknowledge_national_record(
    request: Request, order_id: UUID, task_id: UUID, user: Admitted
) -> Response:
    form = await request.form()
    body = filled(form, "reference")
    command = api.acknowledge_national_record(request, order_id, task_id, body, user)
    outcome = await attempt(f"national-record-{task_id}", form, command)
    if isinstance(outcome, Problem):
        return await national_record_page(request, user, None, outcome)
    reference = text(form, "reference") or str(order_id)
    return done("/national-record", f"The national record holds {reference}'s change.")


async def order_page(
    request: Request, user: User, reference: str, purpose: str, problem: Problem | None = None
) -> Response:
    row = await _registered(request, user, reference)
    detail = await api.get_order(request, UUID(str(row["order_id"])), purpose, user)
    possible = await api.possible_breaches(request, user, ForwardedPage(), None, reference)
    breaches = await api.breach_register(request, user, ForwardedPage(), reference)
    return render(request, user, "order.html", problem.status if problem else 200,
                  title=f"Order {reference}", order=row, detail=detail, possible=possible,
                  breaches=breaches,
                  notification_kinds=[kind.value for kind in NotificationKind],
                  application_kinds=[kind.value for kind in OrderApplicationKind],
                  applicants=[applicant.value for applicant in Applicant],
                  problem=problem)  # fmt: skip


async def in_register(request: Request, user: User, reference: str) -> dict[str, Any] | None:
    """The order's row of the register, ended or not, if the user can see it."""
    found = await api.order_register(request, user, ForwardedPage(), None, True, None, reference)
    return dict(found[0]) if found else None


async def _registered(request: Request, user: User, reference: str) -> dict[str, Any]:
    row = await in_register(request, user, reference)
    if row is None:
        raise HTTPException(404, f"{reference} is not in the order register you can see")
    return row


@router.get("/orders/{reference}", summary="read an order")
async def order(request: Request, reference: str, user: Admitted, purpose: Purpose) -> Response:
    return await order_page(request, user, reference, purpose)


@router.post("/orders/{reference}/notifications", summary="record notifications")
async def record_notification(
    request: Request, reference: str, user: Admitted, purpose: Purpose
) -> Response:
    form = await request.form()
    row = await _registered(request, user, reference)
    command = api.record_notification(request, UUID(str(row["order_id"])), filled(form), user)
    outcome = await attempt("notification", form, command)
    if isinstance(outcome, Problem):
        return await order_page(request, user, reference, purpose, outcome)
    return done(f"/orders/{reference}", f"The {text(form, 'kind')} notification is recorded.")


@router.post("/orders/{reference}/applications", summary="open applications about orders")
async def open_order_application(
    request: Request, reference: str, user: Admitted, purpose: Purpose
) -> Response:
    form = await request.form()
    row = await _registered(request, user, reference)
    command = api.open_order_application(request, UUID(str(row["order_id"])), filled(form), user)
    outcome = await attempt("order-application", form, command)
    if isinstance(outcome, Problem):
        return await order_page(request, user, reference, purpose, outcome)
    opened = f"/order-applications/{outcome['application_id']}"
    return done(opened, f"The {text(form, 'kind')} application is open, at drafting.")


@router.post(
    "/orders/{reference}/possible-breaches/{possible_breach_id}/{decision}",
    summary="confirm or dismiss possible breaches",
)
async def decide_possible_breach(
    request: Request,
    reference: str,
    possible_breach_id: UUID,
    decision: Literal["confirm", "dismiss"],
    user: Admitted,
    purpose: Purpose,
) -> Response:
    form = await request.form()
    body = filled(form) if decision == "dismiss" else None
    command = api.decide_possible_breach(request, possible_breach_id, decision, user, body)
    outcome = await attempt(f"{decision}-{possible_breach_id}", form, command)
    if isinstance(outcome, Problem):
        return await order_page(request, user, reference, purpose, outcome)
    said = "confirmed: the breach is recorded" if decision == "confirm" else "dismissed"
    return done(f"/orders/{reference}", f"The possible breach is {said}.")


async def alerts_page(
    request: Request,
    user: User,
    team: str | None = None,
    problem: Problem | None = None,
    cursor: str | None = None,
) -> Response:
    page = ForwardedPage(cursor=cursor)
    rows = await api.alerts(request, user, page, team)
    directory = await hop(team_directory, request.app.state.service)
    return render(request, user, "alerts.html", problem.status if problem else 200,
                  title="Alerts", rows=rows, teams=sorted(directory.teams), team=team,
                  problem=problem, next_page=next_page(request, page))  # fmt: skip


@router.get("/alerts", summary="read the alert inbox")
async def alerts(
    request: Request, user: Admitted, team: str | None = None, cursor: Cursor = None
) -> Response:
    return await alerts_page(request, user, team, None, cursor)


@router.post("/alerts/{alert_id}/acknowledge", summary="acknowledge alerts")
async def acknowledge(request: Request, alert_id: UUID, user: Admitted) -> Response:
    form = await request.form()
    command = api.acknowledge(request, alert_id, user)
    outcome = await attempt(f"acknowledge-{alert_id}", form, command)
    if isinstance(outcome, Problem):
        return await alerts_page(request, user, None, outcome)

    async def shown() -> bool:  # the newest page: where a team's alerts are acknowledged
        rows = await api.alerts(request, user, ForwardedPage())
        return any(r["alert_id"] == str(alert_id) and r["acknowledged_by"] for r in rows)

    await caught_up(shown)
    return done("/alerts", f"Alert about {text(form, 'reference') or alert_id} acknowledged.")
