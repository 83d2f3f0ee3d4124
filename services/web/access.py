"""Who may use each route of the web app, and over which cases: the one access table.

Every route is declared here by method and path template: public (saying why), or the roles
it admits. A role's scope is its own: a district referrer works on their own district's
referrals, a MOSOVO officer on their own team's orders, an administrator on no case data,
everyone else on all cases; a route that reads or changes one case refuses another scope's
(`in_district`, `in_team`), and a list narrows to the user's own (`own_district`, `own_team`).

The whole app checks each request against the table before anything else of its route runs
(`admit`), so a route the table does not name is refused: a new route is used by nobody
until it is declared here. The README's role table is made from this one
(`civil-orders access`).
"""

from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from pydantic import StringConstraints

from schemas.common import Stated
from services.web.auth import SCOPE_CLAIMS, Forbidden, NotSignedIn, Role, User, current_user

Route = str  # method and path template: "GET /api/orders/{order_id}"

# Why a user looks at a case, recorded with each look (the access log)
PurposeText = Annotated[Stated, StringConstraints(max_length=200)]


class Scope(StrEnum):
    OWN_DISTRICT = "own district"
    OWN_TEAM = "own team"
    ALL = "all"
    NO_CASES = "no case data"


REFERRER, CASEWORKER, LEGAL = Role.DISTRICT_REFERRER, Role.CASEWORKER, Role.LEGAL_SERVICES
MOSOVO, MANAGER, AUDITOR = Role.MOSOVO_OFFICER, Role.MANAGER, Role.AUDITOR
ADMINISTRATOR, SERVICE = Role.ADMINISTRATOR, Role.SERVICE_ACCOUNT
DPO = Role.DATA_PROTECTION_OFFICER

SCOPES = {REFERRER: Scope.OWN_DISTRICT, MOSOVO: Scope.OWN_TEAM, ADMINISTRATOR: Scope.NO_CASES}


def scope_of(role: Role) -> Scope:
    return SCOPES.get(role, Scope.ALL)


# The groups the table names
PEOPLE = tuple(role for role in Role if role is not SERVICE)
READERS = (CASEWORKER, LEGAL, MANAGER, AUDITOR)  # case data, of every case
TRIAGERS = (CASEWORKER, MANAGER, AUDITOR)
ORDER_READERS = (*READERS, MOSOVO)
ALERT_READERS = (MOSOVO, MANAGER, AUDITOR)
OVERSIGHT = (MANAGER, AUDITOR)

PUBLIC: dict[Route, str] = {
    "GET /health/live": "the orchestrator's liveness probe",
    "GET /health/ready": "the orchestrator's readiness probe",
    "GET /metrics": "Prometheus scrapes it: counts and lags, no case data",
    "GET /openapi.json": "the API's description; no data",
    "GET /docs": "the API's description; no data",
    "GET /docs/oauth2-redirect": "the API's description; no data",
    "GET /redoc": "the API's description; no data",
    "POST /api/token": "signing in with the local issuer (switched off in production)",
    "GET /sign-in": "signing in",
    "POST /sign-in": "signing in",
    "GET /sign-out": "signing out",
    "POST /sign-out": "signing out",
}

API: dict[Route, tuple[Role, ...]] = {
    # the event feed: tools inside the cluster replay it (a rebuild), people use the API
    "GET /events": (SERVICE,),
    "GET /api/me": PEOPLE,
    # referrals: made by district referrers; a caseworker's own come from scanning
    "POST /api/referrals": (REFERRER,),
    "GET /api/referrals": (*TRIAGERS, REFERRER),
    "GET /api/referrals/{referral_id}": (*READERS, REFERRER),
    "POST /api/referrals/{referral_id}/review": (CASEWORKER,),
    "POST /api/referrals/{referral_id}/accept": (CASEWORKER,),
    "POST /api/referrals/{referral_id}/resubmit": (REFERRER,),
    "POST /api/referrals/{referral_id}/{decision}": (CASEWORKER,),
    "GET /api/candidates": TRIAGERS,
    "POST /api/candidates/{candidate_id}/{decision}": (CASEWORKER,),
    # applications: built by caseworkers, taken to court by legal services
    "GET /api/applications/by-referral/{referral_id}": READERS,
    "GET /api/applications/{application_id}": READERS,
    "POST /api/applications/{application_id}/casework/{step}": (CASEWORKER,),
    "POST /api/applications/{application_id}/court/{step}": (LEGAL,),
    "POST /api/applications/{application_id}/withdraw": (CASEWORKER, LEGAL),
    # applications to vary, renew or discharge an order: the same hands, and the managing
    # team reads those about its orders
    "POST /api/orders/{order_id}/applications": (CASEWORKER,),
    "GET /api/order-applications": READERS,
    "GET /api/order-applications/{application_id}": ORDER_READERS,
    "POST /api/order-applications/{application_id}/casework/{step}": (CASEWORKER,),
    "POST /api/order-applications/{application_id}/court/{step}": (LEGAL,),
    "POST /api/order-applications/{application_id}/withdraw": (CASEWORKER, LEGAL),
    # orders: the ViSOR unit's caseworkers move them between teams (variation, renewal and
    # discharge are applications about the order, above)
    "GET /api/orders": ORDER_READERS,
    "GET /api/orders/{order_id}": ORDER_READERS,
    "POST /api/orders/{order_id}/reallocate": (CASEWORKER,),
    # an SHPO a court made on conviction reaches the ViSOR unit from the court
    "POST /api/orders/made-on-conviction": (CASEWORKER,),
    # what the order's subject notified (name, home address) is recorded by its team
    "POST /api/orders/{order_id}/notifications": (MOSOVO,),
    # the national record (PNC, ViSOR) is kept by the ViSOR unit, where the caseworkers sit
    "GET /api/national-record": TRIAGERS,
    "POST /api/orders/{order_id}/national-record/{task_id}": (CASEWORKER,),
    "GET /api/breaches": ORDER_READERS,
    "POST /api/breaches": (MOSOVO,),
    "POST /api/breaches/{breach_id}/outcome": (MOSOVO,),
    "GET /api/possible-breaches": ORDER_READERS,
    "POST /api/possible-breaches/{possible_breach_id}/{decision}": (MOSOVO,),
    "GET /api/alerts": ALERT_READERS,
    "POST /api/alerts/{alert_id}/acknowledge": (MOSOVO,),
    # oversight and audit
    "GET /api/caseload": READERS,
    "GET /api/caseload/summary": TRIAGERS,
    "GET /api/cases/{case}/events": OVERSIGHT,
    "GET /api/evaluation": OVERSIGHT,
    # outreach sessions (roadshows) held for districts: the caseworkers who hold them, or a
    # manager, record them; the evaluation sets them beside the referrals
    "POST /api/outreach": (CASEWORKER, MANAGER),
    "GET /api/outreach": TRIAGERS,
    "GET /api/access-log": (AUDITOR,),
    # disposal of a person's personal data: a manager decides it (MoPI review)
    "POST /api/subjects/erase": (MANAGER,),
    # MoPI review: caseworkers and managers retain a record (why, until when) or dispose
    "GET /api/reviews": TRIAGERS,  # and the auditor reads them, as everything
    "GET /api/reviews/{subject_key}": TRIAGERS,
    "POST /api/reviews/{subject_key}/{decision}": (CASEWORKER, MANAGER),
    # subject access (DPA 2018 s.45): the data protection officer exports what is held
    "POST /api/subjects/access": (DPO,),
    # rectification (s.46): the data protection officer corrects a person's name or birth date
    "POST /api/subjects/rectify": (DPO,),
    # administration: configuration, never case data
    "GET /api/admin/access-log": (ADMINISTRATOR, AUDITOR),
    "PUT /api/admin/access-log": (ADMINISTRATOR,),
    "GET /api/admin/teams": (ADMINISTRATOR, *OVERSIGHT),
    "PUT /api/admin/teams": (ADMINISTRATOR,),
    "GET /api/admin/screening-rules": (ADMINISTRATOR, *OVERSIGHT),
    "PUT /api/admin/screening-rules": (ADMINISTRATOR,),
}

# The web interface's pages, each admitting the roles of the API route it stands on
PAGES: dict[Route, Route] = {
    "GET /": "GET /api/me",
    "POST /queue/{referral_id}/{action}": "POST /api/referrals/{referral_id}/review",
    "GET /referrals/new": "POST /api/referrals",
    "POST /referrals/new": "POST /api/referrals",
    "GET /applications/{application_id}": "GET /api/applications/{application_id}",
    "POST /applications/{application_id}/casework/{step}":
        "POST /api/applications/{application_id}/casework/{step}",
    "POST /applications/{application_id}/court/{step}":
        "POST /api/applications/{application_id}/court/{step}",
    "GET /orders": "GET /api/orders",
    "GET /orders/{reference}": "GET /api/orders/{order_id}",
    "POST /orders/made-on-conviction": "POST /api/orders/made-on-conviction",
    "POST /orders/{reference}/notifications": "POST /api/orders/{order_id}/notifications",
    "POST /orders/{reference}/applications": "POST /api/orders/{order_id}/applications",
    "GET /order-applications": "GET /api/order-applications",
    "GET /order-applications/{application_id}": "GET /api/order-applications/{application_id}",
    "POST /order-applications/{application_id}/casework/{step}":
        "POST /api/order-applications/{application_id}/casework/{step}",
    "POST /order-applications/{application_id}/court/{step}":
        "POST /api/order-applications/{application_id}/court/{step}",
    "POST /order-applications/{application_id}/withdraw":
        "POST /api/order-applications/{application_id}/withdraw",
    "POST /orders/{reference}/possible-breaches/{possible_breach_id}/{decision}":
        "POST /api/possible-breaches/{possible_breach_id}/{decision}",
    "GET /national-record": "GET /api/national-record",
    "POST /national-record/{order_id}/{task_id}":
        "POST /api/orders/{order_id}/national-record/{task_id}",
    "GET /reviews": "GET /api/reviews",
    "POST /reviews/{subject_key}/{decision}": "POST /api/reviews/{subject_key}/{decision}",
    "GET /alerts": "GET /api/alerts",
    "POST /alerts/{alert_id}/acknowledge": "POST /api/alerts/{alert_id}/acknowledge",
    "GET /cases": "GET /api/cases/{case}/events",
    "GET /cases/{case}": "GET /api/cases/{case}/events",
    "GET /outreach": "GET /api/outreach",
    "POST /outreach": "POST /api/outreach",
    "GET /evaluation": "GET /api/evaluation",
    "GET /evaluation/report": "GET /api/evaluation",
    "GET /access-log": "GET /api/access-log",
    "GET /admin": "GET /api/admin/teams",
    "POST /admin/teams": "PUT /api/admin/teams",
    "POST /admin/screening-rules": "PUT /api/admin/screening-rules",
    "POST /admin/access-log": "PUT /api/admin/access-log",
}  # fmt: skip

GRANTED: dict[Route, tuple[Role, ...]] = {
    **API,
    # the queue, with its service levels, is the triagers' (a referrer sees their own referrals
    # on the home page)
    "GET /queue": TRIAGERS,
    **{page: API[route] for page, route in PAGES.items()},
}


def route_of(request: Request) -> Route:
    """The request's route as the table names it (a HEAD is its GET's)."""
    method = "GET" if request.method == "HEAD" else request.method
    return f"{method} {request.scope['route'].path}"


async def admit(request: Request) -> User | None:
    """The signed-in user, if the table admits their role to the request's route; None on a
    public route. Refused: 401 without a valid token; 403 for a role the route does not
    admit, and for any route the table does not name."""
    route = route_of(request)
    if route in PUBLIC:
        return None
    roles = GRANTED.get(route)
    if roles is None:
        raise Forbidden(f"{route} is not in the access table, so nobody may use it")
    user = current_user(request)
    if user.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise Forbidden(f"a {user.role.value} may not do this (only: {allowed})")
    return user


async def admitted(user: Annotated[User | None, Depends(admit)]) -> User:
    if user is None:
        raise NotSignedIn("a public route has no signed-in user")
    return user


Admitted = Annotated[User, Depends(admitted)]


def may(user: User | None, route: Route) -> bool:
    """Whether the table admits `user` to a route: pages show only the links and forms their
    reader may use."""
    return user is not None and user.role in GRANTED.get(route, ())


# Scope ---------------------------------------------------------------------------------


def in_district(user: User, district: str | None) -> None:
    if district != own_district(user, district):
        raise Forbidden(f"a {user.role.value} sees only {user.district} district's referrals")


def in_team(user: User, team: str | None) -> None:
    if team != own_team(user, team):
        raise Forbidden(f"a {user.role.value} sees only {user.team}'s orders, breaches and alerts")


def own_district(user: User, district: str | None) -> str | None:
    """The district a list is narrowed to: a referrer's own, whatever they asked for."""
    return own(user, user.district) if scope_of(user.role) is Scope.OWN_DISTRICT else district


def own_team(user: User, team: str | None = None) -> str | None:
    """The team a list is narrowed to: a MOSOVO officer's own, whatever they asked for."""
    return own(user, user.team) if scope_of(user.role) is Scope.OWN_TEAM else team


def own(user: User, scope: str | None) -> str:
    """A scoped user's own district or team: never none, which would narrow nothing."""
    if not scope:
        raise NotSignedIn(f"no {SCOPE_CLAIMS[user.role]} is named for this {user.role.value}")
    return scope


# The README's table --------------------------------------------------------------------


def markdown(staff: dict[str, User]) -> str:
    """The roles with their synthetic users and scope; every route with the scope in which
    each role may use it; and the public routes with why."""
    users = {role: [f"`{u.username}`" for u in staff.values() if u.role is role] for role in Role}
    lines = table("role", "synthetic users", "scope")
    lines += [row(r.value, ", ".join(users[r]) or "(the tools)", scope_of(r)) for r in Role]
    lines += ["", *table("route", *(role.value for role in Role))]
    for route, roles in GRANTED.items():
        lines.append(row(f"`{route}`", *(scope_of(r) if r in roles else "" for r in Role)))
    lines += ["", *table("public route", "why")]
    lines += [row(f"`{route}`", why) for route, why in PUBLIC.items()]
    return "\n".join(lines) + "\n"


def row(*cells: str) -> str:
    return f"| {' | '.join(cells)} |"


def table(*headings: str) -> list[str]:
    return [row(*headings), f"|{'---|' * len(headings)}"]
