"""Every route of the web app (its OpenAPI and its pages) against the access table, as every
role, on the real stack: without a valid token a route is refused (401; a page sends you to
sign in) unless it is public; a role the table does not admit is refused with 403; a role it
admits gets through; and a district referrer or MOSOVO officer sent to the other district's
or team's case is refused it, or shown nothing of it."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, get_args, get_type_hints
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest
from starlette.routing import Route as StarletteRoute

from civil_orders.drills.demo import accept, grant, inbox_entry, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from plumbing.runtime import create_app
from plumbing.settings import Settings
from services.web.access import GRANTED, PUBLIC, SERVICE, Scope, scope_of
from services.web.auth import Role, service_token
from services.web.main import definition
from services.web.pages.common import PURPOSE_COOKIE, PageRoute

PURPOSE = "checking the access table"
SESSION = {"Cookie": f"{PURPOSE_COOKIE}={quote(PURPOSE)}"}  # the purpose stated at sign-in
PEOPLE = {  # one synthetic user of each role, in the north district or its team
    Role.DISTRICT_REFERRER: "ref-north",
    Role.CASEWORKER: "cw-1",
    Role.LEGAL_SERVICES: "ls-1",
    Role.MOSOVO_OFFICER: "mosovo-north-1",
    Role.MANAGER: "mgr-1",
    Role.AUDITOR: "aud-1",
    Role.ADMINISTRATOR: "admin-1",
    Role.DATA_PROTECTION_OFFICER: "dpo-1",
}


@dataclass(frozen=True)
class Case:
    """One district's case, referred, granted, alerted and breached: what routes name."""

    district: str
    team: str
    referral_id: str
    district_reference: str
    application_id: str
    order_id: str
    reference: str
    alert_id: str
    breach_id: str

    def path_values(self) -> dict[str, str]:
        return {"candidate_id": str(uuid4()), "subject_key": str(uuid4()), "case": self.reference,
                "possible_breach_id": str(uuid4()), "task_id": str(uuid4()),
                **vars(self)}  # fmt: skip

    def query(self) -> dict[str, str]:
        return {"purpose": PURPOSE, "district": self.district, "team": self.team,
                "order_reference": self.reference, "ref": self.reference}  # fmt: skip

    def body(self) -> dict[str, str]:
        return {"district": self.district, "order_reference": self.reference}

    def markers(self) -> set[str]:
        """What only this case's district or team may see of it."""
        return {self.referral_id, self.district_reference, self.order_id, self.reference,
                self.alert_id, self.breach_id}  # fmt: skip


async def case_in(client: Client, people: Synthetic, district: str) -> Case:
    referral = await refer(client, people, district)
    application = await accept(client, referral["id"])
    reference = await grant(client, application["id"])
    team = await team_managing(client, reference)
    alert = await inbox_entry(client, team, reference)  # in the alerts the web app reads
    report = people.breach(district, reference).payload.model_dump(mode="json")
    breach = await client.command("breach", "/breaches", f"mosovo:{team}", report)
    order = (await client.get("application", f"/applications/{application['id']}")).json()
    for path in ("/orders", "/breaches"):
        await shown_in_read_models(client, path, {"order_reference": reference}, reference)
    return Case(district, team, referral["id"], referral["district_reference"],
                application["id"], order["order_id"], reference, str(alert["alert_id"]),
                breach["id"])  # fmt: skip


async def shown_in_read_models(
    client: Client, path: str, params: dict[str, str], reference: str
) -> None:
    """Waits until a list the web app reads shows the case: a list that leaked it would."""

    async def shown() -> bool:
        return reference in (await client.get("readmodels", path, params)).text

    await eventually(shown, 30, f"{reference} in the read models' {path}")


@pytest.fixture(scope="module")
async def cases(stack: Stack) -> AsyncIterator[tuple[Case, Case]]:
    """A case in scope of the north referrer and officer, and one out of it (east)."""
    async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
        people = Synthetic(seed=7301)
        yield await case_in(client, people, "north"), await case_in(client, people, "east")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    page: bool  # a page takes a form, and sends the signed-out to the sign-in page
    choices: dict[str, str]  # a path parameter of fixed values: the first of them

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return str(self) in PUBLIC

    def admits(self, role: Role) -> bool:
        return role in GRANTED.get(str(self), ())

    async def request(self, web: httpx.AsyncClient, case: Case, token: str) -> httpx.Response:
        """One request naming `case`; a command's body names its district and order too."""
        path = self.path.format(**{**case.path_values(), **self.choices})
        body = case.body() if self.method in ("POST", "PUT") else None
        headers = {**SESSION, "Authorization": f"Bearer {token}"} if token else SESSION
        response = await web.request(self.method, path, params=case.query(), headers=headers,
                                     data=body if self.page else None,
                                     json=None if self.page else body)  # fmt: skip
        web.cookies.clear()  # what a page set (or signing out deleted) is not sent again
        return response


def web_routes() -> list[Route]:
    routes = []
    for route in create_app(definition).router.routes:
        if not isinstance(route, StarletteRoute):
            continue
        hints = get_type_hints(route.endpoint)
        choices = {name: get_args(hint)[0] for name, hint in hints.items() if get_args(hint)
                   and all(isinstance(value, str) for value in get_args(hint))}  # fmt: skip
        page = isinstance(route, PageRoute)
        routes += [Route(method, route.path, page, choices)
                   for method in sorted(route.methods or ()) if method != "HEAD"]  # fmt: skip
    return routes


ROUTES = web_routes()


def signed_out(response: httpx.Response) -> bool:
    location = response.headers.get("location", "")
    return response.status_code == 401 or (response.status_code == 303 and "/sign-in" in location)


def leaked(response: httpx.Response, other: Case) -> set[str]:
    """What of the other district's or team's case the response shows."""
    shown = {marker for marker in other.markers() if marker in response.text}
    if response.headers.get("content-type", "").startswith("application/json"):
        theirs = (("district", other.district), ("team", other.team))
        shown |= {f"{k}={v}" for k, v in fields(response.json()) if (k, v) in theirs}
    return shown


def fields(document: Any) -> list[tuple[str, Any]]:
    if isinstance(document, list):
        return [field for item in document for field in fields(item)]
    if isinstance(document, dict):
        return [*document.items(), *fields(list(document.values()))]
    return []


async def token_of(stack: Stack, role: Role, web: httpx.AsyncClient) -> str:
    if role is SERVICE:
        settings = Settings(database_url=stack.database_url, kafka_bootstrap_servers="unused:9092")
        return service_token(settings)
    response = await web.post("/api/token", json={"username": PEOPLE[role]})
    return str(response.raise_for_status().json()["access_token"])


def test_the_walk_covers_the_web_apps_openapi_and_every_route_in_the_table(stack: Stack) -> None:
    walked = {str(route) for route in ROUTES}
    described = httpx.get(f"{stack.url('web')}/openapi.json").json()["paths"]

    assert {f"{m.upper()} {p}" for p, ops in described.items() for m in ops} <= walked
    assert walked == set(PUBLIC) | set(GRANTED)


@pytest.mark.parametrize("token", ["", "not-a-token"], ids=["no token", "a bad token"])
async def test_without_a_valid_token_only_the_public_routes_answer(
    stack: Stack, cases: tuple[Case, Case], token: str
) -> None:
    own, _ = cases
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=stack.url("web"), timeout=30) as web:
        for route in ROUTES:
            response = await route.request(web, own, token)
            refused = response.status_code in (401, 403)
            if (route.public and refused) or not (route.public or signed_out(response)):
                wrong.append(f"{route}: {response.status_code}")

    assert wrong == []


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
async def test_each_role_gets_through_only_what_the_table_admits_and_only_in_its_scope(
    stack: Stack, cases: tuple[Case, Case], role: Role
) -> None:
    own, other = cases
    scoped = scope_of(role) in (Scope.OWN_DISTRICT, Scope.OWN_TEAM)
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=stack.url("web"), timeout=30) as web:
        token = await token_of(stack, role, web)
        for route in ROUTES:
            response = await route.request(web, own, token)
            what = f"{route}: {response.status_code}"
            if route.public and (response.status_code in (401, 403) or response.is_server_error):
                wrong.append(f"{what}, though public")
            elif not route.public and not route.admits(role) and response.status_code != 403:
                wrong.append(f"{what}, not 403")
            elif route.admits(role) and (signed_out(response) or response.status_code == 403
                                         or response.is_server_error):  # fmt: skip
                wrong.append(f"{what}, though admitted: {response.text[:200]}")
            elif route.admits(role) and scoped:
                beyond = await route.request(web, other, token)
                if beyond.status_code not in (403, 404) and (shown := leaked(beyond, other)):
                    wrong.append(f"{what}, yet out of scope {beyond.status_code} shows {shown}")

    assert wrong == []
