"""The HTTP API people's tools use: every command and query, each admitted by the access
table (`access`) and kept to the user's scope.

Commands go to the service that owns them; queries read the read models. Request bodies
are passed on as given and validated by the owning service, whose refusal (status, field,
reason) comes back unchanged. Every read of one case's personal data needs a stated purpose
and is recorded in the access log before the data is returned.
"""

from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, status

from plumbing.configuration import team_directory
from plumbing.eventstore import hop
from plumbing.paging import ForwardedPage, forwarded_page
from schemas.dates import Moment
from schemas.trace import Trace
from services.web.access import (
    Admitted,
    PurposeText,
    in_district,
    in_team,
    own_district,
    own_team,
)
from services.web.auth import Forbidden, User

router = APIRouter(prefix="/api")

Purpose = Annotated[
    PurposeText,
    Query(
        description="Why you are looking at this case (3 to 200 characters, not counting "
        "spaces around it): recorded in the access log.",
        examples=["preparing the application for court"],
    ),
]
Command = Annotated[
    dict[str, Any],
    Body(description="As the owning service's API documents it; it validates the fields."),
]
OptionalCommand = Annotated[dict[str, Any] | None, Body()]


async def call(request: Request, user: User, service: str, method: str, path: str,
               body: Any = None, **params: Any) -> Any:  # fmt: skip
    return await request.app.state.backend.call(request, user, service, method, path, body, params)


Paged = Annotated[ForwardedPage, Depends(forwarded_page)]


async def call_page(
    request: Request, user: User, page: ForwardedPage, service: str, path: str, **params: Any
) -> Any:
    """One page of a list another service keeps; the next page's cursor comes back as the
    X-Next-Cursor header of this app's response too."""
    return await request.app.state.backend.page(request, user, service, path, page, params)


async def record_access(
    request: Request,
    user: User,
    case: str,
    what: str,
    purpose: str,
    exported: bool = False,
    change: bool = False,
) -> None:
    trace = Trace(user.actor, request.state.correlation_id)
    service = request.app.state.service
    await hop(service.record_access, user.username, user.role.value, case, what, purpose, trace,
              exported, change)  # fmt: skip


# Referrals ------------------------------------------------------------------------------


@router.post("/referrals", status_code=status.HTTP_201_CREATED, tags=["referrals"])
async def submit_referral(request: Request, body: Command, user: Admitted) -> Any:
    """Refer a person (a district referrer, for their own district only)."""
    in_district(user, body.get("district"))
    return await call(request, user, "referral", "POST", "/referrals", body)


@router.get("/referrals", tags=["referrals"])
async def referral_queue(
    request: Request,
    user: Admitted,
    page: Paged,
    status_: Annotated[str | None, Query(alias="status")] = None,
    district: str | None = None,
) -> Any:
    """The referral queue, oldest first (a referrer's own district only); a page at a time."""
    return await call_page(request, user, page, "referral", "/referrals",
                           status=status_, district=own_district(user, district))  # fmt: skip


@router.get("/referrals/{referral_id}", tags=["referrals"])
async def get_referral(
    request: Request, referral_id: UUID, purpose: Purpose, user: Admitted
) -> Any:
    referral = await call(request, user, "referral", "GET", f"/referrals/{referral_id}")
    in_district(user, referral.get("district"))
    await record_access(request, user, str(referral_id), "referral", purpose)
    return referral


@router.post("/referrals/{referral_id}/review", status_code=204, tags=["referrals"])
async def review(request: Request, referral_id: UUID, user: Admitted) -> None:
    await call(request, user, "referral", "POST", f"/referrals/{referral_id}/review")


@router.post("/referrals/{referral_id}/accept", tags=["referrals"])
async def accept(
    request: Request, referral_id: UUID, user: Admitted, body: OptionalCommand = None
) -> Any:
    return await call(request, user, "referral", "POST", f"/referrals/{referral_id}/accept", body)


@router.post("/referrals/{referral_id}/resubmit", status_code=204, tags=["referrals"])
async def resubmit(
    request: Request,
    referral_id: UUID,
    body: Command,
    user: Admitted,
) -> None:
    """Answer a caseworker's questions (a referrer, for their own district's referral)."""
    referral = await call(request, user, "referral", "GET", f"/referrals/{referral_id}")
    in_district(user, referral.get("district"))
    await call(request, user, "referral", "POST", f"/referrals/{referral_id}/resubmit", body)


@router.post("/referrals/{referral_id}/{decision}", status_code=204, tags=["referrals"])
async def triage(
    request: Request,
    referral_id: UUID,
    decision: Literal["reassign", "return", "decline"],
    body: Command,
    user: Admitted,
) -> None:
    """Reassign, return to the referrer with questions, or decline with a reason."""
    await call(request, user, "referral", "POST", f"/referrals/{referral_id}/{decision}", body)


# Proactive scanning -------------------------------------------------------------------


@router.get("/candidates", tags=["proactive scanning"])
async def candidates(
    request: Request,
    user: Admitted,
    page: Paged,
    status_: Annotated[str | None, Query(alias="status")] = None,
    crime_reference: Annotated[str | None, Query(description="Only this crime's.")] = None,
    identified_since: Annotated[
        Moment | None, Query(description="Only those flagged at or after this time.")
    ] = None,
) -> Any:
    """Candidates flagged by screening, highest score first; a page at a time."""
    since = identified_since.isoformat() if identified_since else None
    which = {"status": status_, "crime_reference": crime_reference, "identified_since": since}
    return await call_page(request, user, page, "referral", "/candidates", **which)


@router.post("/candidates/{candidate_id}/{decision}", tags=["proactive scanning"])
async def decide_candidate(
    request: Request,
    candidate_id: UUID,
    decision: Literal["promote", "dismiss"],
    body: Command,
    user: Admitted,
) -> Any:
    """Promote a screened candidate to a referral, or dismiss it with a reason."""
    path = f"/candidates/{candidate_id}/{decision}"
    return await call(request, user, "referral", "POST", path, body)


# Applications -------------------------------------------------------------------------

CaseworkStep = Literal[
    "legal-test", "matter-date", "terms", "evidence", "duration", "submit-for-qa",
    "quality-assurance",
]  # fmt: skip
CourtStep = Literal[
    "return", "application-made", "hearing", "adjourn", "grant", "interim-order", "refuse"
]


@router.get("/applications/by-referral/{referral_id}", tags=["applications"])
async def application_for_referral(
    request: Request, referral_id: UUID, purpose: Purpose, user: Admitted
) -> Any:
    path = f"/applications/by-referral/{referral_id}"
    application = await call(request, user, "application", "GET", path)
    await record_access(request, user, str(referral_id), "application", purpose)
    return application


@router.get("/applications/{application_id}", tags=["applications"])
async def get_application(
    request: Request, application_id: UUID, purpose: Purpose, user: Admitted
) -> Any:
    application = await call(request, user, "application", "GET", f"/applications/{application_id}")
    await record_access(request, user, str(application_id), "application", purpose)
    return application


@router.post("/applications/{application_id}/casework/{step}", tags=["applications"])
async def casework(
    request: Request,
    application_id: UUID,
    step: CaseworkStep,
    user: Admitted,
    body: OptionalCommand = None,
) -> Any:
    """The caseworker's steps: the legal test, the matter date, terms, evidence, duration,
    submitting for quality assurance, and running the quality-assurance check."""
    method = "PUT" if step in ("legal-test", "matter-date", "duration") else "POST"
    path = f"/applications/{application_id}/{step}"
    return await call(request, user, "application", method, path, body)


@router.post("/applications/{application_id}/court/{step}", tags=["applications"])
async def court(
    request: Request,
    application_id: UUID,
    step: CourtStep,
    body: Command,
    user: Admitted,
) -> Any:
    """Legal services' steps: return to the caseworker, make the application, list the
    hearing, adjourn, and record the court's grant, interim order or refusal."""
    path = f"/applications/{application_id}/{step}"
    return await call(request, user, "application", "POST", path, body)


@router.post("/applications/{application_id}/withdraw", status_code=204, tags=["applications"])
async def withdraw(request: Request, application_id: UUID, body: Command, user: Admitted) -> None:
    path = f"/applications/{application_id}/withdraw"
    await call(request, user, "application", "POST", path, body)


# Applications about an order: to vary, renew or discharge it ------------------------------

OrderCaseworkStep = Literal[
    "term-changes", "renewal-case", "police-response", "submit-for-qa", "quality-assurance"
]
OrderCourtStep = Literal["return", "application-made", "hearing", "adjourn", "grant", "refuse"]


@router.post("/orders/{order_id}/applications", status_code=201, tags=["applications"])
async def open_order_application(
    request: Request, order_id: UUID, body: Command, user: Admitted
) -> Any:
    """Open an application to vary, renew or discharge the order: the police's, on the managing
    team's reasons, or the defendant's, recorded as received. Only the court's grant of it
    changes the order."""
    path = f"/orders/{order_id}/applications"
    return await call(request, user, "application", "POST", path, body)


@router.get("/order-applications", tags=["applications"])
async def list_order_applications(
    request: Request,
    user: Admitted,
    page: Paged,
    order_id: UUID | None = None,
    in_progress: bool | None = None,
) -> Any:
    """Applications about orders, oldest first: of one order, or those in progress."""
    return await call_page(request, user, page, "application", "/order-applications",
                           order_id=order_id, in_progress=in_progress)  # fmt: skip


@router.get("/order-applications/{application_id}", tags=["applications"])
async def get_order_application(
    request: Request, application_id: UUID, purpose: Purpose, user: Admitted
) -> Any:
    path = f"/order-applications/{application_id}"
    application = await call(request, user, "application", "GET", path)
    in_team(user, application.get("team"))
    await record_access(request, user, str(application_id), "order application", purpose)
    return application


@router.post("/order-applications/{application_id}/casework/{step}", tags=["applications"])
async def order_casework(
    request: Request,
    application_id: UUID,
    step: OrderCaseworkStep,
    user: Admitted,
    body: OptionalCommand = None,
) -> Any:
    """The caseworker's steps: a variation's term changes, a renewal's case, the police
    response to a defendant's application, submitting for QA, and running the QA check."""
    method = "PUT" if step in ("renewal-case", "police-response") else "POST"
    path = f"/order-applications/{application_id}/{step}"
    return await call(request, user, "application", method, path, body)


@router.post("/order-applications/{application_id}/court/{step}", tags=["applications"])
async def order_court(
    request: Request, application_id: UUID, step: OrderCourtStep, body: Command, user: Admitted
) -> Any:
    """Legal services' steps: return to the caseworker, make the application, list the
    hearing, adjourn, and record the court's grant (which changes the order) or refusal."""
    path = f"/order-applications/{application_id}/{step}"
    return await call(request, user, "application", "POST", path, body)


@router.post(
    "/order-applications/{application_id}/withdraw", status_code=204, tags=["applications"]
)
async def withdraw_order_application(
    request: Request, application_id: UUID, body: Command, user: Admitted
) -> None:
    path = f"/order-applications/{application_id}/withdraw"
    await call(request, user, "application", "POST", path, body)


# Orders, breaches and alerts ----------------------------------------------------------


@router.get("/orders", tags=["orders"])
async def order_register(
    request: Request,
    user: Admitted,
    page: Paged,
    district: str | None = None,
    include_ended: bool = False,
    renewal_due: bool | None = None,
    order_reference: str | None = None,
    national_record_pending: bool | None = None,
    notification_overdue: bool | None = None,
) -> Any:
    """The order register, soonest-ending first (a MOSOVO officer's own team's orders only);
    a page at a time; `national_record_pending`: only orders with updates of the national
    record not yet acknowledged; `notification_overdue`: only those whose subject has not
    made the notification due."""
    return await call_page(request, user, page, "readmodels", "/orders",
                           team=own_team(user), district=district, include_ended=include_ended,
                           renewal_due=renewal_due, order_reference=order_reference,
                           national_record_pending=national_record_pending,
                           notification_overdue=notification_overdue)  # fmt: skip


@router.get("/orders/{order_id}", tags=["orders"])
async def get_order(request: Request, order_id: UUID, purpose: Purpose, user: Admitted) -> Any:
    order = await call(request, user, "application", "GET", f"/orders/{order_id}")
    in_team(user, order.get("team"))
    await record_access(request, user, order.get("reference", str(order_id)), "order", purpose)
    return order


@router.post("/orders/made-on-conviction", status_code=201, tags=["orders"])
async def record_order_made_on_conviction(request: Request, body: Command, user: Admitted) -> Any:
    """Record an SHPO a court made on conviction, from the court's order (`subject_nominal_id`,
    `district`, `court`, `case_number`, `made_on`, `ends_on`, `terms`): allocated to the
    district's team and managed as one granted on an application."""
    path = "/orders/made-on-conviction"
    return await call(request, user, "application", "POST", path, body)


@router.post("/orders/{order_id}/reallocate", status_code=204, tags=["orders"])
async def reallocate_order(request: Request, order_id: UUID, body: Command, user: Admitted) -> None:
    """Move the order to another MOSOVO team."""
    await call(request, user, "application", "POST", f"/orders/{order_id}/reallocate", body)


@router.post("/orders/{order_id}/notifications", status_code=204, tags=["orders"])
async def record_notification(
    request: Request, order_id: UUID, body: Command, user: Admitted
) -> None:
    """Record a notification the order's subject made: the first (name and home address), or
    a change of name or home address, with the day it changed."""
    order = await call(request, user, "application", "GET", f"/orders/{order_id}")
    in_team(user, order.get("team"))
    await call(request, user, "application", "POST", f"/orders/{order_id}/notifications", body)


TaskState = Literal["awaiting", "escalated", "updated"]


@router.get("/national-record", tags=["orders"])
async def national_record(
    request: Request,
    user: Admitted,
    page: Paged,
    state: TaskState | None = None,
    order_id: UUID | None = None,
) -> Any:
    """The ViSOR unit's queue: each change to an order (made, varied, renewed, ended) to enter
    on the national record, soonest due first; those past their time are escalated."""
    return await call_page(request, user, page, "application", "/national-record-tasks",
                           state=state, order_id=order_id)  # fmt: skip


@router.post("/orders/{order_id}/national-record/{task_id}", status_code=204, tags=["orders"])
async def acknowledge_national_record(
    request: Request, order_id: UUID, task_id: UUID, body: Command, user: Admitted
) -> None:
    """The national record was updated for this task: `national_reference` is its entry."""
    path = f"/orders/{order_id}/national-record/{task_id}"
    await call(request, user, "application", "POST", path, body)


@router.get("/breaches", tags=["breaches"])
async def breach_register(
    request: Request, user: Admitted, page: Paged, order_reference: str | None = None
) -> Any:
    """Breaches, newest first (a MOSOVO officer's own team's only); a page at a time."""
    return await call_page(request, user, page, "readmodels", "/breaches",
                           order_reference=order_reference, team=own_team(user))  # fmt: skip


@router.post("/breaches", status_code=status.HTTP_201_CREATED, tags=["breaches"])
async def report_breach(request: Request, body: Command, user: Admitted) -> Any:
    """Report a breach of one of your team's orders, under a report reference of one of your
    team's districts (a reference names one breach: another district's is not yours)."""
    reference = str(body.get("order_reference", ""))
    order = await call(request, user, "breach", "GET", f"/orders/{quote(reference, safe='')}")
    in_team(user, order.get("team"))
    district = str(body.get("district", ""))
    directory = await hop(team_directory, request.app.state.service)
    if directory.team_for_district(district) != user.team:
        raise Forbidden(f"{user.team} reports breaches under its own districts' references, "
                        f"not under {district!r}'s")  # fmt: skip
    return await call(request, user, "breach", "POST", "/breaches", body)


@router.post("/breaches/{breach_id}/outcome", status_code=204, tags=["breaches"])
async def breach_outcome(request: Request, breach_id: UUID, body: Command, user: Admitted) -> None:
    breach = await call(request, user, "breach", "GET", f"/breaches/{breach_id}")
    in_team(user, breach.get("team"))
    await call(request, user, "breach", "POST", f"/breaches/{breach_id}/outcome", body)


@router.get("/possible-breaches", tags=["breaches"])
async def possible_breaches(
    request: Request,
    user: Admitted,
    page: Paged,
    status: Literal["to confirm or dismiss", "confirmed", "dismissed"] | None = None,
    order_reference: str | None = None,
) -> Any:
    """What may be a breach (a notification not made in time), oldest first, for the
    managing team to confirm or dismiss (a MOSOVO officer's own team's only)."""
    return await call_page(request, user, page, "breach", "/possible-breaches",
                           team=own_team(user), status=status,
                           order_reference=order_reference)  # fmt: skip


@router.post("/possible-breaches/{possible_breach_id}/{decision}", tags=["breaches"])
async def decide_possible_breach(
    request: Request,
    possible_breach_id: UUID,
    decision: Literal["confirm", "dismiss"],
    user: Admitted,
    body: OptionalCommand = None,
) -> Any:
    """Confirm it (the breach is recorded, and returned) or dismiss it with `reason`."""
    path = f"/possible-breaches/{possible_breach_id}"
    possible = await call(request, user, "breach", "GET", path)
    in_team(user, possible.get("team"))
    return await call(request, user, "breach", "POST", f"{path}/{decision}", body)


@router.get("/alerts", tags=["alerts"])
async def alerts(request: Request, user: Admitted, page: Paged, team: str | None = None) -> Any:
    """Alerts, newest first, of one team or all (a MOSOVO officer's own team's only); a page
    at a time."""
    return await call_page(request, user, page, "notification", "/alerts",
                           team=own_team(user, team))  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", status_code=204, tags=["alerts"])
async def acknowledge(request: Request, alert_id: UUID, user: Admitted) -> None:
    alert = await call(request, user, "notification", "GET", f"/alerts/{alert_id}")
    in_team(user, alert.get("team"))
    await call(request, user, "notification", "POST", f"/alerts/{alert_id}/acknowledge")
