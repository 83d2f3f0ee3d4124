"""A page's form with bad input is refused, never a 500, and nothing of it is stored: a reason
an administrator types that PostgreSQL could not store (or that carries the mark of a sealed
value) is refused at the web app's edge with a 422 naming the field, as in JSON; a grant
whose kept term cannot be read is refused, the form shown again saying which term."""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml

from plumbing.memory import InMemory
from plumbing.runtime import create_app
from plumbing.settings import PACKAGED_CONFIG, Settings
from services.web.application import WebService
from services.web.auth import issue_token, load_users
from services.web.backend import Backend
from services.web.main import definition
from services.web.pages.common import PURPOSE_COOKIE

SETTINGS = Settings(database_url="postgresql://unused/x", kafka_bootstrap_servers="unused:9092")
USERS = load_users(PACKAGED_CONFIG / "users.yaml")
APPLICATION_ID = uuid4()
TERM = {"kind": "prohibition", "wording": "Not to contact any child under 16.", "until": None}
AT_HEARING: dict[str, Any] = {
    "id": str(APPLICATION_ID), "referral_id": str(uuid4()), "district": "north",
    "order_type": "SRO", "subject": {}, "stage": "hearing listed", "outcome": None,
    "outcome_reason": None, "legal_test": None, "evidence": [], "ends_on": None,
    "terms": [{**TERM, "necessary_and_proportionate": "the risk is to children"}],
    "until_further_order": True, "quality_assurance_missing": [],
    "legal_services_comments": [], "matter_relied_on": None, "complaint_deadline": None,
    "deadline_warned_for": None, "order_id": None, "interim_order_id": None,
}  # fmt: skip


@pytest.fixture
def web() -> Iterator[WebService]:
    service = WebService(SETTINGS, store=InMemory())
    yield service
    service.close()


def browser(web: WebService, username: str, sent: list[httpx.Request]) -> httpx.AsyncClient:
    """The web app, signed in as `username` with a stated purpose; the application service
    stands in, showing an application at its hearing and keeping each command sent it."""

    def application_service(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=AT_HEARING)
        sent.append(request)
        return httpx.Response(200, json={"order_reference": "ORD-2026-00000001"})

    backend = Backend({"application": "http://application"})
    backend.http = httpx.AsyncClient(transport=httpx.MockTransport(application_service))
    app: Any = create_app(definition, SETTINGS)
    app.state.__dict__.update(settings=SETTINGS, service=web, backend=backend, users=USERS)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)  # a failure is a 500
    session = {"Authorization": f"Bearer {issue_token(SETTINGS, USERS[username])}"}
    return httpx.AsyncClient(
        transport=transport, base_url="http://web", headers=session,
        cookies={PURPOSE_COOKIE: "other%3A%20administration"},
    )  # fmt: skip


def stored(web: WebService) -> int:
    return web.recorder.max_notification_id() or 0


@pytest.mark.parametrize(
    "reason", ["pause for\x00 the migration", "copied sealed:v1:AAAA from a record"]
)
async def test_an_access_log_change_whose_reason_could_not_be_stored_is_refused(
    web: WebService, reason: str
) -> None:
    async with browser(web, "admin-1", []) as http:
        response = await http.post("/admin/access-log", data={"logging": "false", "reason": reason})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "reason"]
    assert web.logging() and stored(web) == 0


async def test_a_team_directory_whose_reason_could_not_be_stored_is_refused_not_a_500(
    web: WebService,
) -> None:
    teams = yaml.safe_load((PACKAGED_CONFIG / "teams.yaml").read_text())
    document = yaml.safe_dump({**teams, "version": teams["version"] + 1})
    form = {"document": document, "reason": "east and west\x00 merged"}
    async with browser(web, "admin-1", []) as http:
        response = await http.post("/admin/teams", data=form)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "reason"]
    assert stored(web) == 0


@pytest.mark.parametrize("escape", ["\\0", "\\udc00"])
async def test_a_team_directory_naming_a_team_with_text_that_could_not_be_stored_is_refused(
    web: WebService, escape: str
) -> None:
    """YAML writes a NUL or a lone surrogate with an escape, which only reading the document
    turns into the character: the directory itself refuses it."""
    teams = yaml.safe_load((PACKAGED_CONFIG / "teams.yaml").read_text())
    document = yaml.safe_dump({**teams, "version": teams["version"] + 1})
    first = next(iter(teams["teams"].values()))["name"]
    document = document.replace(f"name: {first}", f'name: "{first}{escape}"', 1)
    form = {"document": document, "reason": "the north team renamed"}
    async with browser(web, "admin-1", []) as http:
        response = await http.post("/admin/teams", data=form)

    assert response.status_code == 422, response.text
    assert "Text must not contain NUL" in response.text
    assert stored(web) == 0


@pytest.mark.parametrize("kept", ['{"kind": "prohibition", "wording": "Not to', "[" * 5_000])
async def test_a_grant_whose_kept_term_cannot_be_read_is_shown_again_saying_which(
    web: WebService, kept: str
) -> None:
    sent: list[httpx.Request] = []
    form = {"court": "Northtown Magistrates' Court", "made_on": "2026-03-02",
            "term": [json.dumps(TERM), kept]}  # fmt: skip
    async with browser(web, "ls-1", sent) as http:
        response = await http.post(f"/applications/{APPLICATION_ID}/court/grant", data=form)

    assert response.status_code == 422
    assert 'id="grant-problem"' in response.text
    assert "term 2 of those kept from the draft could not be read" in response.text
    assert sent == []  # no grant went to the application service
