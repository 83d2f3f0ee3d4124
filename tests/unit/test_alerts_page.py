"""The alerts page offers Acknowledge on an alert only once it can be acknowledged: delivered
to the team, or its escalation sent; not while it is on its way, nor while its escalation
is pending (the notifier refuses those, 409)."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from starlette.requests import Request

from plumbing.settings import PACKAGED_CONFIG
from services.web.auth import load_users
from services.web.pages.common import render

USERS = load_users(PACKAGED_CONFIG / "users.yaml")


def alert(status: str, escalation: str | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "alert_id": uuid4(), "order_reference": "ORD-2026-PAGE01", "kind": "order allocated",
        "team": "mosovo-north", "requested_at": now, "status": status, "channel": None,
        "failure": None, "escalated_at": now if escalation else None,
        "escalation_reason": "not delivered" if escalation else None, "escalation": escalation,
        "acknowledged_by": None, "acknowledged_at": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("row", "offered"),
    [
        (alert("requested"), False),
        (alert("failed", escalation="pending"), False),
        (alert("delivered"), True),
        (alert("failed", escalation="sent by email"), True),
    ],
)
def test_acknowledge_is_offered_only_on_an_alert_that_reached_the_team(
    row: dict[str, Any], offered: bool
) -> None:
    app = SimpleNamespace(state=SimpleNamespace(users=USERS))
    request = Request({"type": "http", "method": "GET", "path": "/alerts", "headers": [],
                       "query_string": b"", "app": app})  # fmt: skip

    page = render(request, USERS["mosovo-north-1"], "alerts.html", title="Alerts", rows=[row],
                  teams=["mosovo-north"], team=None)  # fmt: skip
    shown = bytes(page.body).decode()
    assert (f'action="/alerts/{row["alert_id"]}/acknowledge"' in shown) is offered
