"""The purpose a browser session states at sign-in is recorded with every look at a case, so
it is text the access log can store: the web app's edge refuses any other at sign-in (422
naming the field), and a session whose purpose cookie holds one has stated no purpose."""

from typing import Any
from urllib.parse import quote

import httpx

from plumbing.runtime import create_app
from plumbing.settings import PACKAGED_CONFIG, Settings
from services.web.auth import SESSION_COOKIE, issue_token, load_users
from services.web.main import definition
from services.web.pages.common import PURPOSE_COOKIE

SETTINGS = Settings(database_url="postgresql://unused/x", kafka_bootstrap_servers="unused:9092")
USERS = load_users(PACKAGED_CONFIG / "users.yaml")


def browser(**cookies: str) -> httpx.AsyncClient:
    app: Any = create_app(definition, SETTINGS)
    app.state.settings, app.state.users = SETTINGS, USERS
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)  # a failure is a 500
    return httpx.AsyncClient(transport=transport, base_url="http://web", cookies=cookies)


async def test_a_purpose_postgresql_cannot_store_is_refused_at_sign_in() -> None:
    form = {"username": "mgr-1", "purpose": "other", "purpose_detail": "audit\x00check"}
    async with browser() as web:
        response = await web.post("/sign-in", data=form)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "purpose_detail"]
    assert SESSION_COOKIE not in response.cookies


async def test_a_session_whose_purpose_postgresql_cannot_store_is_sent_to_sign_in() -> None:
    session = issue_token(SETTINGS, USERS["mgr-1"])
    purpose = quote("other: audit\x00check")
    async with browser(**{SESSION_COOKIE: session, PURPOSE_COOKIE: purpose}) as web:
        response = await web.get("/cases/ORD-2026-00000001")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=/cases/ORD-2026-00000001")


async def test_a_session_whose_purpose_is_only_spaces_is_sent_to_sign_in() -> None:
    session = issue_token(SETTINGS, USERS["mgr-1"])
    async with browser(**{SESSION_COOKIE: session, PURPOSE_COOKIE: quote("   ")}) as web:
        response = await web.get("/cases/ORD-2026-00000001")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=/cases/ORD-2026-00000001")
