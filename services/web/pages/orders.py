"""The order register and the alert inbox."""

from uuid import UUID

from fastapi import HTTPException, Request, Response

from plumbing.configuration import team_directory
from plumbing.eventstore import hop
from plumbing.paging import Cursor, ForwardedPage
from services.web import api
from services.web.access import Admitted
from services.web.auth import User
from services.web.pages.common import Purpose, done, next_page, page_router, render
from services.web.pages.forms import Problem, attempt, caught_up, text

router = page_router()


@router.get("/orders", summary="read the order register")
async def orders(
    request: Request,
    user: Admitted,
    include_ended: bool = False,
    renewal_due: bool = False,
    cursor: Cursor = None,
) -> Response:
    page = ForwardedPage(cursor=cursor)
    rows = await api.order_register(request, user, page, None, include_ended, renewal_due or None)
    due = await api.order_register(request, user, ForwardedPage(), None, False, True)
    return render(request, user, "orders.html", title="Order register", rows=rows,
                  include_ended=include_ended, renewal_due=renewal_due, due=due,
                  next_page=next_page(request, page))  # fmt: skip


@router.get("/orders/{reference}", summary="read an order")
async def order(request: Request, reference: str, user: Admitted, purpose: Purpose) -> Response:
    found = await api.order_register(request, user, ForwardedPage(), None, True, None, reference)
    row = found[0] if found else None
    if row is None:
        raise HTTPException(404, f"{reference} is not in the order register you can see")
    detail = await api.get_order(request, UUID(str(row["order_id"])), purpose, user)
    return render(request, user, "order.html", title=f"Order {reference}", order=row,
                  detail=detail)  # fmt: skip


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
