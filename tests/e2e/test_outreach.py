"""Outreach sessions through the web app: recorded by a caseworker or manager, once however
often sent, refused when not yet held or by someone else, and listed from the read models."""

import secrets
from datetime import date, timedelta
from typing import Any

import httpx

from civil_orders.client import Client, eventually
from civil_orders.seed import record_outreach
from services.web.pages.common import PURPOSE_COOKIE
from tests.web import Web, as_


async def on_page(person: Web, method: str, path: str, **form: Any) -> httpx.Response:
    """A page of the web interface, as the person signed in (with the purpose they stated)."""
    headers = {"Authorization": f"Bearer {person.token}"}
    async with httpx.AsyncClient(base_url=person.url, cookies={PURPOSE_COOKIE: "outreach"}) as web:
        return await web.request(method, path, headers=headers, **form)


async def test_a_caseworker_records_an_outreach_session_and_it_is_listed(client: Client) -> None:
    caseworker, manager = await as_(client, "cw-1"), await as_(client, "mgr-1")
    audience = f"north BCU response officers {secrets.token_hex(3)}"
    session = {"district": "north", "held_on": "2021-03-10", "audience": audience,
               "notes": "at the morning briefing"}  # fmt: skip

    first = await caseworker.request("POST", "/api/outreach", json=session)
    again = await manager.request("POST", "/api/outreach", json=session)

    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["session_id"] == again.json()["session_id"]

    async def listed() -> list[dict[str, Any]]:
        response = await manager.request("GET", "/api/outreach", params={"district": "north"})
        return [s for s in response.json() if s["audience"] == audience]

    [shown] = await eventually(listed, 30, "the session in the read models")
    assert (shown["held_on"], shown["recorded_by"]) == ("2021-03-10", "caseworker:cw-1")
    page = await on_page(manager, "GET", "/outreach")
    assert page.status_code == 200 and audience in page.text and "Record a session" in page.text


async def test_the_outreach_page_records_a_session_from_its_form(client: Client) -> None:
    manager = await as_(client, "mgr-1")
    audience = f"east CID {secrets.token_hex(3)}"
    form = {"district": "east", "held_on": "2022-05-04", "audience": audience, "notes": ""}

    recorded = await on_page(manager, "POST", "/outreach", data=form)
    too_soon = await on_page(manager, "POST", "/outreach", data={**form, "held_on": "2999-01-01"})

    assert recorded.status_code == 303 and recorded.headers["location"] == "/outreach"
    assert too_soon.status_code == 422 and "must not be in the future" in too_soon.text
    assert audience in (await on_page(manager, "GET", "/outreach")).text


async def test_a_session_not_yet_held_or_recorded_by_a_referrer_is_refused(client: Client) -> None:
    caseworker, referrer = await as_(client, "cw-1"), await as_(client, "ref-north")
    tomorrow_but_one = (date.today() + timedelta(days=2)).isoformat()
    session = {"district": "north", "held_on": tomorrow_but_one, "audience": "north CID"}

    future = await caseworker.request("POST", "/api/outreach", json=session)
    by_referrer = await referrer.request(
        "POST", "/api/outreach", json={**session, "held_on": "2021-03-10"}
    )

    assert future.status_code == 422 and "future" in future.text
    assert by_referrer.status_code == 403


async def test_a_seeded_history_records_its_sessions_through_the_web_app(client: Client) -> None:
    audience = f"south safeguarding hub {secrets.token_hex(3)}"

    await record_outreach(client, [("south", date(2022, 1, 12), audience)])

    manager = await as_(client, "mgr-1")

    async def listed() -> bool:
        response = await manager.request("GET", "/api/outreach", params={"district": "south"})
        return any(s["audience"] == audience for s in response.json())

    assert await eventually(listed, 30, "the seeded session in the read models")
