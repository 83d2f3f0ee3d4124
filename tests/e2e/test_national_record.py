"""Each change to an order is a task on its own topic to enter it on the national record (PNC
and ViSOR): acknowledged with the national reference, it leaves the register's list of
orders not yet on the record; not acknowledged in time, it is escalated to the ViSOR unit's
queue, once."""

import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaConsumer

from civil_orders.client import Client, eventually
from civil_orders.stack import Stack
from civil_orders.synthetic import Synthetic
from tests.e2e.test_order_calendar import order_for
from tests.restarts import restarted
from tests.web import as_

TOPIC = "application.national-record.v1"


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


async def test_a_task_not_acknowledged_in_time_is_escalated_to_the_visor_unit_once(
    stack: Stack, client: Client
) -> None:
    with restarted(
        stack, "application", NATIONAL_RECORD_ACK_HOURS="0.0005", ORDER_CALENDAR_CHECK_SECONDS="0.3"
    ):
        order_id, reference = await order_for(client, Synthetic(seed=182))
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


async def _some(rows: Any) -> list[dict[str, Any]] | None:
    return (await rows) or None
