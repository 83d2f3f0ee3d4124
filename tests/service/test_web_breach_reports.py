"""A MOSOVO officer reports a breach through the web app: of one of their team's orders, under
a report reference of one of their team's districts, never another district's (a report
reference names one breach, so taking another district's would take that district's breach)."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from plumbing.runtime import create_app
from plumbing.settings import PACKAGED_CONFIG, Settings
from services.web.application import WebService
from services.web.auth import issue_token, load_users
from services.web.backend import Backend
from services.web.main import definition

USERS = load_users(PACKAGED_CONFIG / "users.yaml")
NORTH_ORDER = "ORD-2026-NORTH1"


def web_app(settings: Settings, web: WebService, forwarded: list[dict[str, Any]]) -> FastAPI:
    """The web app, its breach service standing in: it knows a north order and records what
    it is sent."""

    def breach_service(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == f"/orders/{NORTH_ORDER}":
            return httpx.Response(200, json={"reference": NORTH_ORDER, "team": "mosovo-north"})
        if request.method == "POST" and request.url.path == "/breaches":
            forwarded.append(json.loads(request.content))
            return httpx.Response(201, json={"id": "recorded"})
        return httpx.Response(404, json={"detail": "not here"})

    backend = Backend({"breach": "http://breach"})
    backend.http = httpx.AsyncClient(transport=httpx.MockTransport(breach_service))
    app = create_app(definition, settings)
    app.state.__dict__.update(settings=settings, service=web, backend=backend, users=USERS)
    return app


def report(district: str) -> dict[str, str]:
    return {
        "district": district,
        "report_reference": f"{district.upper()[:3]}-BR-2026-00042",
        "order_reference": NORTH_ORDER,
        "occurred_at": "2026-01-02T10:00:00+00:00",
        "location": "Synthetic Park",
        "condition_breached": "Not to have unsupervised contact with any child under 16.",
        "how_detected": "home visit",
        "reporting_officer": "DC 1 (synthetic)",
    }


@pytest.mark.parametrize(("district", "status"), [("north", 201), ("east", 403), ("", 403)])
async def test_an_officer_reports_under_their_own_teams_districts_references_only(
    settings: Settings, web: WebService, district: str, status: int
) -> None:
    forwarded: list[dict[str, Any]] = []
    app = web_app(settings, web, forwarded)
    token = issue_token(settings, USERS["mosovo-north-1"])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://web") as c:
        response = await c.post(
            "/api/breaches", json=report(district), headers={"Authorization": f"Bearer {token}"}
        )

    assert response.status_code == status, response.text
    assert [sent["district"] for sent in forwarded] == ([district] if status == 201 else [])
    if status == 403:
        assert "reports breaches under its own districts' references" in response.json()["detail"]
