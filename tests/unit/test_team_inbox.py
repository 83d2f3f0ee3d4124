"""The team inbox stand-in's long poll: a watcher waiting on an inbox hears of an arrival as
soon as it comes, and one waiting in vain is answered when its wait is up."""

import asyncio
import json
import time

import httpx

from civil_orders.stack.team_inbox import create_app
from plumbing.settings import Settings
from services.notification.channels import SIGNATURE_HEADER, sign

TEAM = "mosovo-north"
SETTINGS = Settings(database_url="postgresql://unused/x", kafka_bootstrap_servers="unused:9092")


def inbox() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(SETTINGS)), base_url="http://inbox"
    )


async def deliver(client: httpx.AsyncClient, key: str) -> None:
    body = json.dumps({"order_reference": key}).encode()
    secret = SETTINGS.webhook_secret.get_secret_value()
    headers = {SIGNATURE_HEADER: sign(secret, body), "Idempotency-Key": key}
    response = await client.post(f"/teams/{TEAM}/alerts", content=body, headers=headers)
    assert response.status_code == 202


async def test_a_long_poll_answers_as_soon_as_an_alert_arrives() -> None:
    async with inbox() as client:
        await deliver(client, "first")
        began = time.perf_counter()
        waiting = asyncio.create_task(
            client.get(f"/teams/{TEAM}/alerts", params={"after": 1, "wait": 10})
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()  # nothing after position 1 yet
        await deliver(client, "second")
        listed = (await waiting).json()
        assert [a["alert"]["order_reference"] for a in listed] == ["second"]
        assert listed[0]["position"] == 2
        assert time.perf_counter() - began < 5  # woken, not timed out


async def test_a_long_poll_with_nothing_new_answers_empty_when_its_wait_is_up() -> None:
    async with inbox() as client:
        await deliver(client, "first")
        began = time.perf_counter()
        listed = await client.get(f"/teams/{TEAM}/alerts", params={"after": 1, "wait": 0.3})
        assert listed.json() == []
        assert time.perf_counter() - began >= 0.3


async def test_what_has_already_arrived_is_answered_without_waiting() -> None:
    async with inbox() as client:
        await deliver(client, "first")
        began = time.perf_counter()
        listed = await client.get(f"/teams/{TEAM}/alerts", params={"after": 0, "wait": 10})
        assert [a["position"] for a in listed.json()] == [1]
        assert time.perf_counter() - began < 5


async def test_a_wait_beyond_thirty_seconds_is_refused() -> None:
    async with inbox() as client:
        response = await client.get("/mail/a@teams.example", params={"after": 0, "wait": 31})
        assert response.status_code == 422


async def test_a_long_poll_on_an_inbox_nothing_has_reached_yet_hears_its_first_alert() -> None:
    async with inbox() as client:
        waiting = asyncio.create_task(
            client.get(f"/teams/{TEAM}/alerts", params={"after": 0, "wait": 10})
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await deliver(client, "first")
        assert [a["position"] for a in (await waiting).json()] == [1]
