"""What every page shares: the layout and its links, status messages, readable refusals,
and the route class that sends a visitor without a session to the sign-in page."""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from plumbing.configuration import team_directory
from plumbing.eventstore import hop
from plumbing.paging import NEXT_CURSOR, ForwardedPage, Page
from schemas.common import TERM_KINDS
from schemas.text import unstorable
from services.web.access import PurposeText, may
from services.web.auth import SESSION_COOKIE, Forbidden, NotSignedIn, User, current_user

PURPOSE_COOKIE = "civil_orders_purpose"
STATUS_COOKIE = "civil_orders_status"

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


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
templates.env.globals["term_kinds"] = TERM_KINDS


@dataclass(frozen=True)
class Link:
    """A page in the layout's menu, shown to those the access table admits to it."""

    path: str
    label: str
    about: str


LINKS = (
    Link("/queue", "Referral queue", "Referrals and applications, oldest first, with service "
         "levels; review, accept or decline referrals."),
    Link("/referrals/new", "Refer a person", "Refer someone you believe poses a risk of sexual "
         "harm."),
    Link("/orders", "Order register", "Orders in force, with renewal reviews due."),
    Link("/order-applications", "Applications about orders", "Applications to vary, renew or "
         "discharge an order, in progress, oldest first."),
    Link("/national-record", "National record", "Changes to orders to enter on the PNC and "
         "ViSOR, soonest due first; those past their time are escalated."),
    Link("/reviews", "Reviews due", "People whose record is due for review (MoPI): retain it, "
         "saying why and until when, or dispose of it."),
    Link("/alerts", "Alerts", "Alerts sent to MOSOVO teams, and who acknowledged them."),
    Link("/outreach", "Outreach", "Sessions held for districts' staff; record one."),
    Link("/evaluation", "Evaluation", "Referrals, orders and breaches over a period, with "
         "charts."),
    Link("/access-log", "Access log", "Who looked at which case’s personal data, when and why; "
         "and every change to whether looks are logged."),
    Link("/admin", "Administration", "The team directory, the screening rules and the access "
         "log’s setting now in force; publish new versions of them."),
)  # fmt: skip


def links_for(user: User | None) -> list[Link]:
    return [link for link in LINKS if may(user, f"GET {link.path}")]


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
            "may": lambda route: may(user, route),  # shows what the table allows
            "problem": None,
            "next_page": None,
            **context,
        },
        status_code=status_code,
    )
    if message:
        response.delete_cookie(STATUS_COOKIE, httponly=True, samesite="strict")
    return response


def next_page(request: Request, page: ForwardedPage | Page[Any]) -> str | None:
    """The address of the page after this one (the same query, the next cursor), if any."""
    cursor = page.response.headers.get(NEXT_CURSOR)
    if cursor is None:
        return None
    url = request.url.include_query_params(cursor=cursor)
    return f"{url.path}?{url.query}"


def person(request: Request, actor: str | None) -> str:
    """Who an actor (`caseworker:cw-1`) is, by name where the staff directory knows them."""
    if not actor:
        return ""
    known = request.app.state.users.get(actor.partition(":")[2])
    return str(known.name) if known else actor


async def districts(request: Request, user: User) -> list[str]:
    """The districts a form offers the user: a referrer's own, else every one the team
    directory in force names."""
    if user.district:
        return [user.district]
    directory = await hop(team_directory, request.app.state.service)
    return directory.districts()


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


_PURPOSE = TypeAdapter(PurposeText)


async def session_purpose(request: Request) -> str:
    """The purpose stated at sign-in; recorded with every look at a case, so none if it is
    not one (blank, say) or is text the access log could not store."""
    try:
        purpose = _PURPOSE.validate_python(unquote(request.cookies.get(PURPOSE_COOKIE, "")))
    except ValidationError:
        purpose = None
    if purpose is None or unstorable(purpose):
        raise NotSignedIn("state the purpose of your session")
    return purpose


Purpose = Annotated[str, Depends(session_purpose)]


def page_router(signed_in: bool = True) -> APIRouter:
    """Routes of pages; all but signing in need the purpose stated at sign-in."""
    needs = [Depends(session_purpose)] if signed_in else []
    return APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=needs)
