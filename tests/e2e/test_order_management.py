"""Managing an order once it is made. The subject of an SRO must notify their name and home
address within 3 days: the order shows the date, a notification recorded by MOSOVO settles
it, and one not made alerts the managing team once and waits as a possible breach for the
team to confirm or dismiss. Each change to an order is a task on its own topic to enter it
on the national record (PNC and ViSOR): acknowledged with the national reference, it leaves
the register's list of orders not yet on the record; not acknowledged in time, it is
escalated to the ViSOR unit's queue, once.

The tests that need time to pass share one restart of the application service, with its
clock four days on and an hour's fraction allowed for the national record."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from civil_orders.drills.demo import alerts_for
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from schemas import dates
from tests.e2e.test_order_calendar import order_for
from tests.restarts import restarted
from tests.web import as_

TODAY = dates.today()
DUE = TODAY + timedelta(days=3)
FOUR_DAYS_ON = TODAY + timedelta(days=4)
TOPIC = "application.national-record.v1"


async def notification(client: Client, order_id: str) -> dict[str, Any]:
    order = (await client.get("application", f"/orders/{order_id}")).json()
    return dict(order["notification"])


async def on_the_topic(client: Client, reference: str) -> list[dict[str, Any]]:
    """Every message about the order on the national record topic, in order."""
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=client.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        found = []
        while batch := await consumer.getmany(timeout_ms=1000):
            for records in batch.values():
                found += [json.loads(r.value) for r in records if reference.encode() in r.value]
        return sorted(found, key=lambda m: m["sequence"])
    finally:
        await consumer.stop()


async def tasks(client: Client, order_id: str, state: str | None = None) -> list[dict[str, Any]]:
    caseworker = await as_(client, "cw-1")
    params = {"order_id": order_id} | ({"state": state} if state else {})
    return list((await caseworker.request("GET", "/api/national-record", params=params)).json())


async def _some(rows: Any) -> list[dict[str, Any]] | None:
    return (await rows) or None


async def test_a_notification_recorded_in_time_settles_the_duty_and_shows_on_the_register(
    client: Client,
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=171))
    officer = await as_(client, "mosovo-north-1")
    path = f"/api/orders/{order_id}/notifications"
    given = {"kind": "initial", "notified_on": TODAY.isoformat(), "how_received": "in person"}

    incomplete = await officer.request("POST", path, json=given | {"name": "Synthetic Name"})
    made = await officer.request(
        "POST", path, json=given | {"name": "Synthetic Name", "address": "1 Synthetic Row"}
    )
    elsewhere = await (await as_(client, "mosovo-east-1")).request("POST", path, json=given)

    assert incomplete.status_code == 409
    assert "gives the home address" in incomplete.json()["detail"]
    assert made.status_code == 204
    assert elsewhere.status_code == 403  # another team's order
    duty = await notification(client, order_id)
    assert duty["due_on"] == DUE.isoformat()
    assert duty["status"] == f"notified on {TODAY.isoformat()}"

    async def registered() -> dict[str, Any] | None:
        rows = (await client.get("readmodels", f"/orders?order_reference={reference}")).json()
        return rows[0] if rows and rows[0]["notified_on"] else None

    row = await eventually(registered, 30, "the notification in the order register")
    assert row["notification_due_on"] == DUE.isoformat() and row["notified_late"] is False
    assert row["notification_overdue"] is False


async def test_an_order_made_is_a_task_for_the_national_record_until_acknowledged(
    client: Client,
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=181))
    [task] = await eventually(lambda: _some(tasks(client, order_id)), 30, "the task")
    caseworker, officer = await as_(client, "cw-1"), await as_(client, "mosovo-north-1")
    path = f"/api/orders/{order_id}/national-record/{task['task_id']}"

    refused = await officer.request("POST", path, json={"national_reference": "PNC 26/1A"})
    done = await caseworker.request("POST", path, json={"national_reference": "PNC 26/181A"})
    again = await caseworker.request("POST", path, json={"national_reference": "PNC 26/181B"})

    assert refused.status_code == 403  # the ViSOR unit keeps the national record
    assert done.status_code == 204
    assert again.status_code == 409 and "PNC 26/181A" in again.json()["detail"]
    assert task["change"] == "made" and task["state"] == "awaiting"

    async def registered() -> dict[str, Any] | None:
        rows = (await client.get("readmodels", f"/orders?order_reference={reference}")).json()
        return rows[0] if rows and rows[0]["national_reference"] else None

    row = await eventually(registered, 30, "the national reference in the register")
    assert row["national_record_outstanding"] == 0 and row["national_reference"] == "PNC 26/181A"
    requested, updated = await on_the_topic(client, reference)
    assert requested["event_type"] == "NationalRecordUpdateRequested"
    assert requested["payload"]["change"] == "made"
    assert updated["payload"]["national_reference"] == "PNC 26/181A"


@pytest.fixture(scope="module")
async def later(stack: Stack) -> AsyncIterator[tuple[str, str]]:
    """An SRO granted today, then the application service restarted four days on, its
    calendar looking every 0.3 s and 2 seconds allowed for the national record; yields the
    order (id, reference)."""
    async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
        granted = await order_for(client, Synthetic(seed=172))
        duty = await notification(client, granted[0])
    assert duty["status"] == f"due by {DUE.isoformat()}"
    with restarted(
        stack,
        "application",
        CLOCK_DATE=FOUR_DAYS_ON.isoformat(),
        ORDER_CALENDAR_CHECK_SECONDS="0.3",
        NATIONAL_RECORD_ACK_HOURS="0.0005",
    ):
        yield granted


async def test_a_notification_not_made_in_time_alerts_the_team_once_and_is_a_possible_breach(
    later: tuple[str, str], client: Client
) -> None:
    order_id, reference = later
    officer = await as_(client, "mosovo-north-1")
    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    duty = await notification(client, order_id)

    async def possible() -> list[dict[str, Any]] | None:
        path = f"/api/possible-breaches?order_reference={reference}"
        rows = (await officer.request("GET", path)).json()
        return rows or None

    [raised] = await eventually(possible, 30, "the possible breach")
    confirmed = await officer.request(
        "POST", f"/api/possible-breaches/{raised['possible_breach_id']}/confirm"
    )
    again = await officer.request(
        "POST",
        f"/api/possible-breaches/{raised['possible_breach_id']}/dismiss",
        json={"reason": "changed our minds"},
    )
    alerts = await alerts_for(client, "mosovo-north", reference, count=3)

    kinds = sorted(a["alert"]["kind"] for a in alerts)
    overdue = (
        f"notification overdue: the subject's name and home address were due by "
        f"{DUE.isoformat()}; a possible breach to confirm or dismiss"
    )
    assert kinds == ["breach", overdue, "order allocated"]  # the overdue one once
    assert duty["status"] == f"overdue: was due by {DUE.isoformat()}"
    assert raised["status"] == "to confirm or dismiss" and raised["team"] == "mosovo-north"
    assert confirmed.status_code == 200
    assert confirmed.json()["order_reference"] == reference
    assert again.status_code == 409 and "already confirmed" in again.json()["detail"]


async def test_a_task_not_acknowledged_in_time_is_escalated_to_the_visor_unit_once(
    later: tuple[str, str], client: Client
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=182), made_on=FOUR_DAYS_ON)
    [escalated] = await eventually(
        lambda: _some(tasks(client, order_id, "escalated")), 30, "the escalation"
    )
    await asyncio.sleep(2)  # several more checks of the calendar
    messages = await on_the_topic(client, reference)
    path = f"/orders?national_record_pending=true&order_reference={reference}"
    pending = (await client.get("readmodels", path)).json()

    kinds = [m["event_type"] for m in messages]
    assert kinds == ["NationalRecordUpdateRequested", "NationalRecordEscalated"]
    assert escalated["order_reference"] == reference and escalated["escalated_at"]
    assert reference in [row["order_reference"] for row in pending]
