"""Outreach sessions through the web app: recorded by a caseworker or manager, once however
often sent, refused when not yet held or by someone else, and listed from the read models."""

import secrets
from datetime import date, timedelta
from typing import Any

import httpx

from civil_orders.drills.seed import record_outreach
from civil_orders.stack.client import Client, eventually
from schemas import dates
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
    tomorrow_but_one = (dates.today() + timedelta(days=2)).isoformat()
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


async def test_the_evaluation_page_compares_the_months_asked_for_around_each_session(
    client: Client,
) -> None:
    caseworker, manager = await as_(client, "cw-1"), await as_(client, "mgr-1")
    audience = f"west neighbourhood teams {secrets.token_hex(3)}"
    session = {"district": "west", "held_on": "2019-06-12", "audience": audience}
    assert (await caseworker.request("POST", "/api/outreach", json=session)).status_code == 201

    async def listed() -> bool:
        response = await manager.request("GET", "/api/outreach", params={"district": "west"})
        return any(s["audience"] == audience for s in response.json())

    await eventually(listed, 30, "the session in the read models")
    period = {"from": "2019-01-01", "to": "2019-12-31"}

    async def windows(**asked: Any) -> tuple[int, str]:
        """The months compared and the first day before the session, as the API gives them."""
        response = await manager.request("GET", "/api/evaluation", params={**period, **asked})
        outreach = response.json()["outreach"]
        [ours] = [s for s in outreach["sessions"] if s["session"]["audience"] == audience]
        return outreach["months"], ours["before"]["first"]

    seven = await on_page(manager, "GET", "/evaluation", params={**period, "outreach_months": 7})
    alone = await on_page(
        manager, "GET", "/evaluation/report", params={**period, "outreach_months": 7}
    )
    usual = await on_page(manager, "GET", "/evaluation", params=period)
    too_many = await on_page(
        manager, "GET", "/evaluation", params={**period, "outreach_months": 25}
    )

    # seven months before 12 June 2019 is cut at the period's start; three is 12 March
    assert await windows(outreach_months=7) == (7, "2019-01-01")
    assert await windows() == (3, "2019-03-12")
    assert seven.status_code == alone.status_code == usual.status_code == 200
    assert "7 months before" in seven.text and 'name="outreach_months"' in seven.text
    assert 'value="7"' in seven.text and "outreach_months=7" in seven.text  # the report's link
    assert "7 months before" in alone.text
    assert "3 months before" in usual.text and "7 months before" not in usual.text
    assert too_many.status_code == 422
