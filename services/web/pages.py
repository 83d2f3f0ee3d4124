"""The web interface: server-rendered pages over the same API.

Each page admits the roles of the API route it stands on (the same aliases from `api`) and
calls that route's own function, so the scope rules (a referrer's district, a MOSOVO
officer's team) and the access log are the API's. Commands are forms that POST and
redirect back with a status message; a service's refusal is shown next to its form.
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_type_hints
from urllib.parse import quote, unquote
from uuid import UUID

import yaml
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from plumbing.configuration import team_directory
from plumbing.errors import CommandRejected, NotFound
from services.web import api, api_records
from services.web.access_log import POLICY
from services.web.auth import (
    SESSION_COOKIE,
    Forbidden,
    NotSignedIn,
    Role,
    SignedIn,
    User,
    current_user,
    issue_token,
)

PURPOSE_COOKIE = "civil_orders_purpose"
STATUS_COOKIE = "civil_orders_status"
PURPOSES = (
    "triaging referrals",
    "preparing an application for court",
    "presenting an application in court",
    "managing orders and alerts",
    "making a referral",
    "supervising casework and service levels",
    "auditing lawful processing",
    "other",
)
LEGAL_STAGES = ("with legal services", "application made to court", "hearing listed")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def when(value: str | datetime | None, seconds: bool = False) -> str:
    """An ISO date-time as people read it: 1 Mar 2026 14:05 UTC (or 14:05:09 UTC)."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    moment = moment.astimezone(UTC)
    clock = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    return f"{moment.day} {moment:%b %Y} {clock} UTC"


templates.env.filters["when"] = when
templates.env.filters["segment"] = lambda value: quote(str(value), safe="")


@dataclass(frozen=True)
class Link:
    path: str
    label: str
    about: str
    roles: tuple[Role, ...]


LINKS = (
    Link("/queue", "Referral queue", "Referrals and applications, oldest first, with service "
         "levels; review, accept or decline referrals.", api.TRIAGERS),
    Link("/referrals/new", "Refer a person", "Refer someone you believe poses a risk of sexual "
         "harm.", api.REFERRERS),
    Link("/orders", "Order register", "Orders in force, with renewal reviews due.",
         api.ORDER_READERS),
    Link("/alerts", "Alerts", "Alerts sent to MOSOVO teams, and who acknowledged them.",
         api.ALERT_READERS),
    Link("/evaluation", "Evaluation", "Referrals, orders and breaches over a period, with "
         "charts.", api.OVERSIGHT),
    Link("/access-log", "Access log", "Who looked at which case’s personal data, when and why; "
         "and every change to whether looks are logged.", (api.AUDITOR,)),
    Link("/admin", "Administration", "The team directory, the screening rules and the access "
         "log’s setting now in force; publish new versions of them.", (Role.ADMINISTRATOR,)),
)  # fmt: skip


def links_for(user: User | None) -> list[Link]:
    return [link for link in LINKS if user is not None and user.role in link.roles]


# Rendering, status messages and refusals ---------------------------------------------


def render(
    request: Request, user: User | None, template: str, status_code: int = 200, **context: Any
) -> Response:
    """A page in the layout, with the status message the last command left, if any."""
    message = unquote(request.cookies.get(STATUS_COOKIE, ""))
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "links": links_for(user),
            "purpose": unquote(request.cookies.get(PURPOSE_COOKIE, "")),
            "message": message,
            "here": request.url.path,
            "person": lambda actor: person(request, actor),
            "problem": None,
            **context,
        },
        status_code=status_code,
    )
    if message:
        response.delete_cookie(STATUS_COOKIE, httponly=True, samesite="strict")
    return response


def person(request: Request, actor: str | None) -> str:
    """Who an actor (`caseworker:cw-1`) is, by name where the staff directory knows them."""
    if not actor:
        return ""
    known = request.app.state.users.get(actor.partition(":")[2])
    return str(known.name) if known else actor


def done(path: str, message: str) -> Response:
    """After a command: back to the page, which shows `message` (post/redirect/get)."""
    response = RedirectResponse(path, status.HTTP_303_SEE_OTHER)
    response.set_cookie(STATUS_COOKIE, quote(message), httponly=True, samesite="strict")
    return response


def readable(detail: Any) -> str:
    """A refusal as a sentence: a service's message, or its field errors one by one."""
    if not isinstance(detail, list):
        return str(detail)
    return "; ".join(_field_error(item) for item in detail)


def _field_error(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = [str(part).replace("_", " ") for part in item.get("loc", ()) if part != "body"]
    return f"{' '.join(where)}: {item.get('msg', '')}" if where else str(item.get("msg", ""))


@dataclass(frozen=True)
class Problem:
    """A service's refusal of a form, shown next to it with what was entered."""

    form: str
    message: str
    values: FormData
    status: int


async def attempt(form: str, values: FormData, command: Awaitable[T]) -> T | Problem:
    """Run a command; a refusal (other than sign-in and permission) becomes a Problem."""
    try:
        return await command
    except HTTPException as error:
        if error.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            raise
        return Problem(form, readable(error.detail), values, error.status_code)
    except CommandRejected as error:  # refused by this app's own service, as the API answers
        code = 404 if isinstance(error, NotFound) else 409
        return Problem(form, str(error), values, code)


def refusal(request: Request, code: int, why: str, what: str) -> Response:
    try:
        user: User | None = current_user(request)
    except HTTPException:
        user = None
    titles = {403: "You may not do this", 404: "Not found"}
    title = titles.get(code, "This could not be done")
    return render(request, user, "refusal.html", code, title=title, why=why, what=what, code=code)


def to_sign_in(request: Request) -> Response:
    follow = request.url.path if request.method == "GET" else "/"
    if request.method == "GET" and request.url.query:
        follow += f"?{request.url.query}"
    ended = "&ended=1" if request.cookies.get(SESSION_COOKIE) else ""
    return RedirectResponse(f"/sign-in?next={quote(follow)}{ended}", status.HTTP_303_SEE_OTHER)


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


class PageRoute(APIRoute):
    """A page: without a session it goes to the sign-in page; refusals are readable pages
    naming what was refused (the route's summary)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        what = self.summary or "do this"

        async def page(request: Request) -> Response:
            try:
                if request.method == "POST" and not same_origin(request):
                    raise Forbidden("a form from another site may not send commands here")
                return await handle(request)
            except NotSignedIn:
                return to_sign_in(request)
            except HTTPException as error:
                return refusal(request, error.status_code, readable(error.detail), what)
            except RequestValidationError as error:
                return refusal(request, 422, readable(list(error.errors())), what)

        return page


def session_purpose(request: Request) -> str:
    """The purpose stated at sign-in; recorded with every look at a case."""
    purpose = unquote(request.cookies.get(PURPOSE_COOKIE, ""))
    if not 3 <= len(purpose) <= 200:
        raise NotSignedIn("state the purpose of your session")
    return purpose


Purpose = Annotated[str, Depends(session_purpose)]
router = APIRouter(include_in_schema=False, route_class=PageRoute)
pages = APIRouter(
    include_in_schema=False, route_class=PageRoute, dependencies=[Depends(session_purpose)]
)


def text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def filled(form: FormData, *skip: str) -> dict[str, Any]:
    """The form's fields that were filled in (the owning service validates them)."""
    return {name: text(form, name) for name in form if name not in skip and text(form, name)}


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


async def caught_up(check: Callable[[], Awaitable[bool]], seconds: float = 3) -> None:
    """Wait briefly until the read models show a command's effect, so the page shows it."""
    for _ in range(int(seconds / 0.25)):
        if await check():
            return
        await asyncio.sleep(0.25)


async def service_enum(request: Request, user: User, service: str, name: str) -> list[str]:
    """A list of choices as the owning service publishes it in its API description."""
    cache: dict[tuple[str, str], list[str]] | None = getattr(request.app.state, "enums", None)
    if cache is None:
        cache = request.app.state.enums = {}
    if (service, name) not in cache:
        document = await api.call(request, user, service, "GET", "/openapi.json")
        cache[service, name] = list(document["components"]["schemas"][name]["enum"])
    return cache[service, name]


# Signing in and out ---------------------------------------------------------------------


def safe_next(path: str | None) -> str:
    return path if path and path.startswith("/") and not path.startswith("//") else "/"


def sign_in_page(
    request: Request, status_code: int = 200, errors: dict[str, str] | None = None, **context: Any
) -> Response:
    if not request.app.state.settings.local_sign_in:
        why = "sign in with the force's identity provider"
        return render(request, None, "refusal.html", 404, title="Sign in", why=why, what="")
    staff = sorted(request.app.state.users.values(), key=lambda u: (u.role.value, u.name))
    return render(request, None, "sign_in.html", status_code, title="Sign in", staff=staff,
                  purposes=PURPOSES, errors=errors or {}, **context)  # fmt: skip


@router.get("/sign-in", summary="sign in")
async def sign_in_form(request: Request, next: str = "/", ended: bool = False) -> Response:
    return sign_in_page(request, next=safe_next(next), ended=ended, values={})


@router.post("/sign-in", summary="sign in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    user = request.app.state.users.get(text(form, "username"))
    choice, detail = text(form, "purpose"), text(form, "purpose_detail")
    purpose = f"{choice}: {detail}" if detail else choice
    errors = {}
    if user is None:
        errors["username"] = "Choose who you are signing in as."
    if choice not in PURPOSES or (choice == "other" and not detail):
        errors["purpose"] = "Choose the purpose of this session (and describe it if other)."
    elif len(purpose) > 200:
        errors["purpose_detail"] = "Describe the purpose in 200 characters or fewer."
    if errors or user is None:
        return sign_in_page(request, 422, errors, next=safe_next(text(form, "next")), values=form)
    settings = request.app.state.settings
    response = done(safe_next(text(form, "next")), f"Signed in as {user.name}.")
    cookie = {"max_age": settings.auth_token_minutes * 60, "httponly": True,
              "samesite": "strict", "secure": request.url.scheme == "https"}  # fmt: skip
    response.set_cookie(SESSION_COOKIE, issue_token(settings, user), **cookie)
    response.set_cookie(PURPOSE_COOKIE, quote(purpose), **cookie)
    return response


@router.api_route("/sign-out", methods=["GET", "POST"], summary="sign out")
async def sign_out(request: Request) -> Response:
    response = done("/sign-in", "You have signed out.")
    for name in (SESSION_COOKIE, PURPOSE_COOKIE):
        response.delete_cookie(name, httponly=True, samesite="strict")
    return response


# Home -----------------------------------------------------------------------------------


@pages.get("/", summary="see the home page")
async def home(request: Request, user: SignedIn) -> Response:
    context: dict[str, Any] = {}
    if user.role is api.LEGAL:
        cases = await api_records.caseload(request, user, None, None)
        context["applications"] = [c for c in cases if c["state"] in LEGAL_STAGES]
    elif user.role is api.CASEWORKER:
        context["mine"] = await api_records.caseload(request, user, user.actor, None)
    elif user.role is api.REFERRER:
        context["referrals"] = await api.referral_queue(request, user, None, None)
    oversight = user.role in api.OVERSIGHT
    return render(request, user, "home.html", title="Home", oversight=oversight, **context)


# The referral queue ---------------------------------------------------------------------


def queue_row(case: dict[str, Any], waiting: dict[str, Any] | None, level: int) -> dict[str, Any]:
    """A caseload row with the referral service's fresher triage state and its wait."""
    state = waiting["status"] if waiting and not case.get("application_id") else case["state"]
    days = waiting["hours_waiting"] / 24 if waiting else case.get("age_days") or 0
    awaiting = state in ("received", "under review")
    over = awaiting and (bool(waiting and waiting["overdue"]) or days > level)
    return {**case, "state": state, "awaiting": awaiting, "days": int(days), "over_level": over}


async def queue_page(request: Request, user: User, problem: Problem | None = None) -> Response:
    level = request.app.state.settings.triage_service_level_days
    cases = await api_records.caseload(request, user, None, None)
    queued = await api.referral_queue(request, user, None, None)
    waiting = {str(r["referral_id"]): r for r in queued}
    known = {str(case["referral_id"]) for case in cases}
    newest = [{**r, "state": r["status"]} for key, r in waiting.items() if key not in known
              and r["status"] in ("received", "under review")]  # fmt: skip
    rows = [queue_row(c, waiting.get(str(c["referral_id"])), level) for c in [*cases, *newest]]
    can_triage, reasons = user.role is api.CASEWORKER, []
    if can_triage:
        reasons = await service_enum(request, user, "referral", "DeclineReason")
    return render(request, user, "queue.html", problem.status if problem else 200,
                  title="Referral queue", rows=rows, level=level, reasons=reasons,
                  can_triage=can_triage, overdue=[r for r in rows if r["over_level"]],
                  problem=problem)  # fmt: skip


@pages.get("/queue", summary="open the referral queue")
async def queue(request: Request, user: api.Triager) -> Response:
    return await queue_page(request, user)


@pages.post("/queue/{referral_id}/{action}", summary="triage referrals")
async def triage(
    request: Request,
    referral_id: UUID,
    action: Literal["review", "accept", "decline"],
    user: api.Caseworker,
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
        rows = await api.referral_queue(request, user, None, None)
        after = {"review": "under review", "accept": "accepted", "decline": "declined"}[action]
        return any(r["referral_id"] == str(referral_id) and r["status"] == after for r in rows)

    await caught_up(shown)
    if isinstance(outcome, dict) and outcome.get("caseworker"):
        message = f"{message[:-1]} (assigned to {person(request, outcome['caseworker'])})."
    return done("/queue", message)


# Referrals ------------------------------------------------------------------------------


def districts(request: Request, user: User) -> list[str]:
    if user.district:
        return [user.district]
    directory = team_directory(request.app.state.service)
    return sorted({d for team in directory.teams.values() for d in team.districts})


def referral_page(request: Request, user: User, problem: Problem | None = None) -> Response:
    return render(request, user, "referral.html", problem.status if problem else 200,
                  title="Refer a person", districts=districts(request, user),
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


@pages.get("/referrals/new", summary="refer a person")
async def referral_form(request: Request, user: api.Referrer) -> Response:
    return referral_page(request, user)


@pages.post("/referrals/new", summary="refer a person")
async def refer(request: Request, user: api.Referrer) -> Response:
    form = await request.form()
    body = referral_body(form)
    outcome = await attempt("referral", form, api.submit_referral(request, body, user))
    if isinstance(outcome, Problem):
        return referral_page(request, user, outcome)
    back = "/queue" if user.role is api.CASEWORKER else "/"
    return done(back, f"Referral {body['district_reference']} sent; recorded as {outcome['id']}.")


# Applications ---------------------------------------------------------------------------

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
    if user.role is api.CASEWORKER and application["stage"] == "drafting":
        choices = {
            "kinds": await service_enum(request, user, "application", "EvidenceKind"),
            "elements": await service_enum(request, user, "application", "Element"),
        }
    return render(request, user, "application.html", problem.status if problem else 200,
                  title=f"{application['order_type']} application", a=application,
                  problem=problem, today=request.app.state.settings.current_date(),
                  can_casework=user.role is api.CASEWORKER, can_court=user.role is api.LEGAL,
                  oversight=user.role in api.OVERSIGHT, **choices)  # fmt: skip


@pages.get("/applications/{application_id}", summary="read an application")
async def application(
    request: Request, application_id: UUID, user: api.Reader, purpose: Purpose
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


@pages.post("/applications/{application_id}/casework/{step}", summary="prepare applications")
async def casework(
    request: Request,
    application_id: UUID,
    step: api.CaseworkStep,
    user: api.Caseworker,
    purpose: Purpose,
) -> Response:
    form = await request.form()
    command = api.casework(request, application_id, step, user, casework_body(step, form))
    outcome = await attempt(step, form, command)
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    if step != "quality-assurance":
        message = CASEWORK_DONE[step]
    elif outcome["passed"]:
        message = "Quality assurance passed: the application goes to legal services."
    else:
        message = f"Quality assurance did not pass: {'; '.join(outcome['missing'])}."
    return done(f"/applications/{application_id}", message)


def granted_terms(form: FormData) -> list[dict[str, Any]]:
    """The terms the court made: those of the draft it kept, and any it added."""
    terms = [json.loads(str(value)) for value in form.getlist("term")]
    if text(form, "added_wording"):
        terms.append({"kind": text(form, "added_kind"), "wording": text(form, "added_wording")})
    return terms


def court_body(step: str, form: FormData) -> dict[str, Any]:
    body = filled(form, "term", "added_kind", "added_wording")
    if step == "grant":
        body = {**body, "ends_on": body.get("ends_on"), "terms": granted_terms(form)}
    return body


@pages.post("/applications/{application_id}/court/{step}", summary="record court steps")
async def court(
    request: Request,
    application_id: UUID,
    step: Literal["return", "application-made", "hearing", "grant", "refuse"],
    user: api.Legal,
    purpose: Purpose,
) -> Response:
    form = await request.form()
    command = api.court(request, application_id, step, court_body(step, form), user)
    outcome = await attempt(step, form, command)
    if isinstance(outcome, Problem):
        return await application_page(request, user, application_id, purpose, outcome)
    message = COURT_DONE.get(step, "")
    if step == "grant":
        message = (f"The court granted order {outcome['order_reference']}; it is allocated to "
                   "the district's MOSOVO team, which is alerted.")  # fmt: skip
    return done(f"/applications/{application_id}", message)


# Orders and alerts ----------------------------------------------------------------------


@pages.get("/orders", summary="read the order register")
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


@pages.get("/orders/{reference}", summary="read an order")
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


@pages.get("/alerts", summary="read the alert inbox")
async def alerts(request: Request, user: api.AlertReader, team: str | None = None) -> Response:
    return await alerts_page(request, user, team)


@pages.post("/alerts/{alert_id}/acknowledge", summary="acknowledge alerts")
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


# Oversight: a case's history, and the evaluation ---------------------------------------


@pages.get("/cases", summary="look up a case")
async def find_case(request: Request, user: api.Oversight, ref: str = "") -> Response:
    where = f"/cases/{quote(ref.strip(), safe='')}" if ref.strip() else "/"
    return RedirectResponse(where, status.HTTP_303_SEE_OTHER)


@pages.get("/cases/{case}", summary="read a case's history")
async def case_history(
    request: Request, case: str, user: api.Oversight, purpose: Purpose
) -> Response:
    events = await api_records.case_events(request, case, purpose, user)
    return render(request, user, "case.html", title=f"History of {case}", case=case,
                  events=events)  # fmt: skip


def embedded(document: str) -> Markup:
    """The report's body inside this page: its main a section, its headings one level down."""
    found = re.search(r"<body[^>]*>(.*)</body>", document, re.S)
    body = (found.group(1) if found else "").replace("<main>", '<div class="report">')
    body = body.replace("</main>", "</div>")
    for level in (5, 4, 3, 2, 1):
        body = body.replace(f"<h{level}", f"<h{level + 1}").replace(
            f"</h{level}>", f"</h{level + 1}>"
        )
    return Markup(body)  # the read-model service's own rendering, escaped there


def period(request: Request, start: date | None, end: date | None) -> tuple[date, date]:
    today = request.app.state.settings.current_date()
    return start or today - timedelta(days=365), end or today


@pages.get("/evaluation", summary="read the evaluation")
async def evaluation(
    request: Request,
    user: api.Oversight,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    start, end = period(request, start, end)
    report, problem = None, None
    if start > end:
        problem = "The ‘from’ date is after the ‘to’ date."
    else:
        document = await api.call(request, user, "readmodels", "GET", "/evaluation.html",
                                  start=start.isoformat(), end=end.isoformat())  # fmt: skip
        report = embedded(str(document))
    return render(request, user, "evaluation.html", 422 if problem else 200,
                  title="Evaluation", start=start, end=end, report=report,
                  error=problem)  # fmt: skip


@pages.get("/evaluation/report", summary="read the evaluation")
async def evaluation_document(
    request: Request,
    user: api.Oversight,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    """The report on its own, to print or save."""
    start, end = period(request, start, end)
    if start > end:
        raise HTTPException(422, "the ‘from’ date is after the ‘to’ date")
    document = await api.call(request, user, "readmodels", "GET", "/evaluation.html",
                              start=start.isoformat(), end=end.isoformat())  # fmt: skip
    return HTMLResponse(str(document))


# Administration: the configuration in force, and new versions of it ---------------------

ADMIN = "/admin"


class Dumper(yaml.SafeDumper):
    """YAML as the packaged files are written: a list of plain values on one line."""

    def represent_values(self, data: list[Any]) -> yaml.SequenceNode:
        flow = all(not isinstance(item, dict | list) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


Dumper.add_representer(list, Dumper.represent_values)


def as_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def from_yaml(value: str) -> Any:
    """A document typed into a form; unreadable YAML is refused, saying where."""
    try:
        return yaml.safe_load(value)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = error.problem or error.context or "it is not YAML"
        raise HTTPException(422, f"the YAML could not be read{where}: {why}") from None
    except yaml.YAMLError as error:
        raise HTTPException(422, f"the YAML could not be read: {error}") from None


def validated(model: type[M], body: dict[str, Any]) -> M:
    """A form's fields as the API route's body, refused field by field as the API does."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(422, list(errors)) from None


async def admin_page(request: Request, user: User, problem: Problem | None = None) -> Response:
    teams = await api_records.team_directory_in_force(request, user)
    rules = await api_records.screening_rules_in_force(request, user)
    policy = await api_records.access_log_policy(request, user)
    return render(request, user, "admin.html", problem.status if problem else 200,
                  title="Administration", teams=teams, rules=rules, logging=policy["logging"],
                  documents={"teams": as_yaml(teams), "screening-rules": as_yaml(rules)},
                  problem=problem)  # fmt: skip


@pages.get(ADMIN, summary="administer the configuration")
async def administration(request: Request, user: api_records.Administrator) -> Response:
    return await admin_page(request, user)


async def publishing(
    request: Request, user: User, form: str, command: Callable[[FormData], Awaitable[str]]
) -> Response:
    """A publishing form's command; its refusal is shown next to it, with what was typed."""
    values = await request.form()
    outcome = await attempt(form, values, command(values))
    if isinstance(outcome, Problem):
        return await admin_page(request, user, outcome)
    return done(ADMIN, outcome)


@pages.post(f"{ADMIN}/teams", summary="publish the team directory")
async def publish_teams(request: Request, user: api_records.Administrator) -> Response:
    async def publish(form: FormData) -> str:
        document = from_yaml(text(form, "document"))
        body = validated(api_records.TeamDirectoryChange,
                         {"directory": document, "reason": text(form, "reason")})  # fmt: skip
        await api_records.publish_team_directory(request, body, user)
        return (f"Team directory version {body.directory.version} published: new orders are "
                "allocated, and alerts sent, by it.")  # fmt: skip

    return await publishing(request, user, "teams", publish)


@pages.post(f"{ADMIN}/screening-rules", summary="publish the screening rules")
async def publish_rules(request: Request, user: api_records.Administrator) -> Response:
    async def publish(form: FormData) -> str:
        document = from_yaml(text(form, "document"))
        body = validated(api_records.ScreeningRulesChange,
                         {"rules": document, "reason": text(form, "reason")})  # fmt: skip
        await api_records.publish_screening_rules(request, body, user)
        return (f"Screening rules version {body.rules.version} published: the referral service "
                "screens disposals by them from now on.")  # fmt: skip

    return await publishing(request, user, "screening-rules", publish)


@pages.post(f"{ADMIN}/access-log", summary="change whether looks are logged")
async def configure_access_log(request: Request, user: api_records.Administrator) -> Response:
    async def configure(form: FormData) -> str:
        body = validated(api_records.AccessLogChange, filled(form))
        await api_records.configure_access_log(request, body, user)
        state = "on" if body.logging else "off"
        return f"Access logging turned {state}; the change is in the access log, with your reason."

    return await publishing(request, user, "access-log", configure)


# The access log, for auditors -----------------------------------------------------------

LOG_ROWS = 500


def route_check(route: Callable[..., Any]) -> Any:
    """The role check of an API route (its `user` dependency), where no alias names it."""
    return get_type_hints(route, include_extras=True)["user"].__metadata__[0]


AccessLogReader = Annotated[User, route_check(api_records.access_log)]


@pages.get("/access-log", summary="read the access log")
async def access_log(
    request: Request, user: AccessLogReader, case: str = "", username: str = ""
) -> Response:
    case, username = case.strip(), username.strip()
    rows = await api_records.access_log(request, user, case or None, username or None, LOG_ROWS)
    policy = await api_records.access_log_policy(request, user)
    return render(request, user, "access_log.html", title="Access log", rows=rows, case=case,
                  username=username, logging=policy["logging"], limit=LOG_ROWS,
                  policy_prefix=POLICY)  # fmt: skip


router.include_router(pages)
