"""The read-model service process: projections of every service's events, and their queries."""

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from plumbing.eventstore import hop
from plumbing.paging import Page, paged
from plumbing.personal import PersonalData
from plumbing.runtime import ServiceDefinition
from schemas import dates
from schemas.refusals import NotFound
from services.readmodels import audit, breaches, caseload, disposals, orders, outreach
from services.readmodels.evaluation import Costing, evaluate, render_html
from services.readmodels.settings import EvaluationSettings

PROJECTIONS = (
    caseload.PROJECTION,
    orders.PROJECTION,
    breaches.PROJECTION,
    audit.PROJECTION,
    outreach.PROJECTION,
    disposals.PROJECTION,
)

router = APIRouter(tags=["read models"])
# A day of an evaluation period. Bounded, because the figures go month by month, and asyncpg
# sends the first and last days Python knows (0001-01-01, 9999-12-31) as -infinity and infinity.
Day = Annotated[
    date,
    Query(
        ge=date(dates.YEARS[0], 1, 1),
        le=date(dates.YEARS[-1], 12, 31),
        description=f"From {dates.YEARS[0]} to {dates.YEARS[-1]}.",
    ),
]


async def revealed(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their personal fields opened (the tables hold them sealed): `[erased]`
    where the person's key has been destroyed."""
    personal: PersonalData = request.app.state.personal
    return await hop(personal.reveal, rows)


@router.get("/caseload")
async def caseload_now(
    request: Request,
    page: Annotated[Page[caseload.CaseKey], paged(caseload.CaseKey)],
    caseworker: str | None = None,
    district: str | None = None,
    state: Annotated[list[str] | None, Query(description="Only cases in these states.")] = None,
) -> list[dict[str, Any]]:
    """Open referrals and applications, oldest first, with their state and age in days;
    a page at a time."""
    pool = request.app.state.pool
    which = (caseworker, district, state)
    today = request.app.state.settings.current_date()
    rows = await caseload.get_caseload(pool, *which, page.after, page.fetch, today)
    return page.of(rows, caseload.case_key)


@router.get("/caseload/summary")
async def caseload_summary(request: Request) -> list[dict[str, Any]]:
    """Cases in each state, per caseworker and district, with the oldest's age."""
    today = request.app.state.settings.current_date()
    return await caseload.get_caseload_summary(request.app.state.pool, today)


@router.get("/orders")
async def order_register(
    request: Request,
    page: Annotated[Page[orders.OrderKey], paged(orders.OrderKey)],
    team: str | None = None,
    district: str | None = None,
    include_ended: bool = Query(False, description="Also orders no longer in force."),
    renewal_due: bool | None = None,
    order_reference: str | None = Query(None, description="Only this order."),
    national_record_pending: bool | None = Query(
        None,
        description="Only orders with (true) or without (false) national record "
        "updates not yet acknowledged.",
    ),  # fmt: skip
    notification_overdue: bool | None = Query(
        None,
        description="Only orders whose subject's notification is (true) or is not "
        "(false) overdue today.",
    ),  # fmt: skip
) -> list[dict[str, Any]]:
    """The order register, soonest-ending first (orders until further order last); a page
    at a time."""
    in_force = None if include_ended else True
    which = orders.OrderFilter(
        team, district, in_force, renewal_due, order_reference, national_record_pending,
        notification_overdue,
    )  # fmt: skip
    today = request.app.state.settings.current_date()
    rows = await orders.get_orders(request.app.state.pool, which, page.after, page.fetch, today)
    return page.of(await revealed(request, rows), orders.order_key)


@router.get("/breaches")
async def breach_register(
    request: Request,
    page: Annotated[Page[breaches.BreachKey], paged(breaches.BreachKey)],
    order_reference: str | None = None,
    team: str | None = None,
) -> list[dict[str, Any]]:
    """Breaches, newest first, with the subject and type of the order breached; a page at
    a time."""
    pool = request.app.state.pool
    rows = await breaches.get_breaches(pool, order_reference, team, page.after, page.fetch)
    return page.of(await revealed(request, rows), breaches.breach_key)


@router.get("/breaches/repeat-breachers")
async def repeat_breachers(
    request: Request,
    page: Annotated[Page[breaches.BreacherKey], paged(breaches.BreacherKey)],
    at_least: int = Query(2, ge=1),
) -> list[Any]:
    """Subjects with at least `at_least` breaches across their orders, most first; a page
    at a time."""
    pool = request.app.state.pool
    rows = await breaches.get_repeat_breachers(pool, at_least, page.after, page.fetch)
    return page.of(await revealed(request, rows), breaches.breacher_key)


@router.get("/cases/{case}/events")
async def case_events(
    case: str, request: Request, page: Annotated[Page[audit.EventKey], paged(audit.EventKey)]
) -> list[dict[str, Any]]:
    """Every published event of the case that a referral, application or order id, or an
    order reference, belongs to; oldest first, a page at a time."""
    found = await audit.get_case_events(request.app.state.pool, case, page.after, page.fetch)
    if not found and page.after is None:
        raise NotFound(f"no case is known by {case!r}")
    return page.of(await revealed(request, found), audit.event_key)


@router.get("/outreach")
async def outreach_sessions(
    request: Request,
    page: Annotated[Page[outreach.SessionKey], paged(outreach.SessionKey)],
    district: str | None = None,
) -> list[dict[str, Any]]:
    """Outreach sessions held for districts' staff, newest first; a page at a time."""
    rows = await outreach.get_sessions(request.app.state.pool, district, page.after, page.fetch)
    return page.of(rows, outreach.session_key)


OutreachMonths = Annotated[
    int, Query(ge=1, le=24, description="Months before and after each outreach session.")
]


@router.get("/evaluation")
async def evaluation(
    request: Request, start: Day, end: Day, outreach_months: OutreachMonths = outreach.MONTHS
) -> Any:
    """The practice's figures for a period (the same as `civil-orders report`)."""
    async with request.app.state.pool.acquire() as connection:
        today, costing = request.app.state.settings.current_date(), request.app.state.costing
        return asdict(await evaluate(connection, start, end, today, costing, outreach_months))


@router.get("/evaluation.html", response_class=HTMLResponse)
async def evaluation_page(
    request: Request, start: Day, end: Day, outreach_months: OutreachMonths = outreach.MONTHS
) -> str:
    """The same figures as a self-contained HTML document with charts."""
    async with request.app.state.pool.acquire() as connection:
        today, costing = request.app.state.settings.current_date(), request.app.state.costing
        return render_html(await evaluate(connection, start, end, today, costing, outreach_months))


definition = ServiceDefinition(
    name="readmodels",
    application=None,
    router=router,
    projections=PROJECTIONS,
    # on no alert's path: it takes bigger batches, so the services that are get the CPU
    fetch_max_wait_ms=lambda settings: settings.read_model_fetch_max_wait_ms,
    state=lambda settings: {
        "personal": PersonalData.from_settings(settings),
        "costing": Costing.from_settings(EvaluationSettings()),
    },
)
