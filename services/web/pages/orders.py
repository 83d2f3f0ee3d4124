"""The order register and the alert inbox."""

from uuid import UUID

from fastapi import HTTPException, Request, Response

from services.web import api
from services.web.auth import User
from services.web.pages.common import Purpose, done, page_router, render
from services.web.pages.forms import Problem, attempt, caught_up, text

router = page_router()


@router.get("/orders", summary="read the order register")
async def orders(
    request: Request,
    user: api.ReaderOrMosovo,
    include_ended: bool = False,
    renewal_due: bool = False,
) -> Response:
    rows = await api.order_register(request, user, None, include_ended, renewal_due or None)
    return render(request, user, "orders.html", title="Order register", rows=rows,
                  include_ended=include_ended, renewal_due=renewal_due,
                  due=[r for r in rows if r["renewal_review_due"]],
                  oversight=user.role in api.OVERSIGHT)  # fmt: skip


@router.get("/orders/{reference}", summary="read an order")
async def order(
    request: Request, reference: str, user: api.ReaderOrMosovo, purpose: Purpose
) -> Response:
    register = await api.order_register(request, user, None, True, None)
    row = next((r for r in register if r["order_reference"] == reference), None)
    if row is None:
        raise HTTPException(404, f"{reference} is not in the order register you can see")
    detail = await api.get_order(request, UUID(str(row["order_id"])), purpose, user)
    return render(request, user, "order.html", title=f"Order {reference}", order=row,
                  detail=detail, oversight=user.role in api.OVERSIGHT)  # fmt: skip


async def alerts_page(
    request: Request, user: User, team: str | None = None, problem: Problem | None = None
) -> Response:
    rows = await api.alerts(request, user)
    teams = sorted({row["team"] for row in rows})
    shown = [row for row in rows if not team or row["team"] == team]
    return render(request, user, "alerts.html", problem.status if problem else 200,
                  title="Alerts", rows=shown, teams=teams, team=team, problem=problem,
                  can_acknowledge=user.role is api.MOSOVO)  # fmt: skip


@router.get("/alerts", summary="read the alert inbox")
async def alerts(request: Request, user: api.AlertReader, team: str | None = None) -> Response:
    return await alerts_page(request, user, team)


@router.post("/alerts/{alert_id}/acknowledge", summary="acknowledge alerts")
async def acknowledge(request: Request, alert_id: UUID, user: api.Mosovo) -> Response:
    form = await request.form()
    command = api.acknowledge(request, alert_id, user)
    outcome = await attempt(f"acknowledge-{alert_id}", form, command)
    if isinstance(outcome, Problem):
        return await alerts_page(request, user, None, outcome)

    async def shown() -> bool:
        rows = await api.alerts(request, user)
        return any(r["alert_id"] == str(alert_id) and r["acknowledged_by"] for r in rows)

    await caught_up(shown)
    return done("/alerts", f"Alert about {text(form, 'reference') or alert_id} acknowledged.")
