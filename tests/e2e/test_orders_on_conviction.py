"""An SHPO a court made on conviction reaches the force from the court, not from an
application of ours: a caseworker of the ViSOR unit records it from the court's order, and
the district's team manages it as any other order. It replaces the person's order in force."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from civil_orders.drills.demo import accept, alerts_for, grant, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.operations.audit import consult
from civil_orders.stack.client import Client, eventually
from schemas import dates
from tests.web import as_

TODAY = dates.today()


def court_order(nominal: str, case_number: str, **changed: Any) -> dict[str, Any]:
    return {
        "subject_nominal_id": nominal,
        "district": "north",
        "court": "Northtown Crown Court",
        "case_number": case_number,
        "made_on": TODAY.isoformat(),
        "ends_on": None,
        "terms": [{"kind": "prohibition",
                   "wording": "Not to use any device that can reach the internet unmonitored."}],
    } | changed  # fmt: skip


async def test_an_shpo_made_on_conviction_is_managed_breached_and_replaces_the_earlier_order(
    client: Client,
) -> None:
    people = Synthetic(seed=181)
    application = await accept(client, (await refer(client, people, "north"))["id"])
    earlier = await grant(client, application["id"])
    opened = (await client.get("application", f"/applications/{application['id']}")).json()
    nominal = opened["subject"]["nominal_id"]
    caseworker, officer = await as_(client, "cw-1"), await as_(client, "mosovo-north-1")
    path = "/api/orders/made-on-conviction"

    made = await caseworker.request("POST", path, json=court_order(nominal, "T20261810"))
    again = await caseworker.request("POST", path, json=court_order(nominal, "T20261810"))
    four_years = (TODAY + timedelta(days=4 * 365)).isoformat()
    short = court_order(nominal, "T20261811", ends_on=four_years)
    too_short = await caseworker.request("POST", path, json=short)
    not_theirs = await officer.request("POST", path, json=court_order(nominal, "T20261812"))

    assert made.status_code == 201, made.text
    assert (again.status_code, too_short.status_code, not_theirs.status_code) == (409, 409, 403)
    assert "recorded already" in again.json()["detail"]
    reference = made.json()["order_reference"]
    assert await team_managing(client, reference) == "mosovo-north"
    [allocated] = await alerts_for(client, "mosovo-north", reference, count=1)
    assert allocated["alert"]["kind"] == "order allocated"
    ended = await alerts_for(client, "mosovo-north", earlier, count=2)
    assert f"order ended on {TODAY.isoformat()}: replaced by {reference}" in [
        alert["alert"]["kind"] for alert in ended
    ]

    report = people.breach("north", reference).payload.model_dump(mode="json")
    await client.command("breach", "/breaches", "mosovo:mosovo-north", report)

    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    assert sorted(alert["alert"]["kind"] for alert in alerts) == ["breach", "order allocated"]
    dpo = await as_(client, "dpo-1")
    asked = {"nominal_id": nominal, "purpose": "SAR-2026-181"}
    export = (await dpo.request("POST", "/api/subjects/access", json=asked)).json()
    held = {order["reference"]: order for order in export["orders"]}
    assert (held[reference]["case_number"], held[earlier]["expired"]) == ("T20261810", True)
    history = await asyncio.to_thread(consult, client.database_url, reference)
    assert history.case.referral_id is None  # an auditor replays it as a case of its own
    assert {(e.aggregate, e.event) for e in history.events} >= {
        ("Order", "Granted"), ("Order", "Allocated"), ("Breach", "Recorded"),
    }  # fmt: skip


async def test_a_caseworker_records_one_with_the_order_registers_form(client: Client) -> None:
    people = Synthetic(seed=182)
    nominal = people.subject().nominal_id
    async with httpx.AsyncClient(base_url=client.urls["web"]) as browser:
        signed_in = {"username": "cw-1", "purpose": "managing orders and alerts"}
        assert (await browser.post("/sign-in", data=signed_in)).status_code == 303
        form = court_order(nominal, "T20261820") | {
            "court": "Eastbury Crown Court", "ends_on": "", "terms": None,
            "prohibitions": "Not to enter Northtown Park.\n\nNot to use any alias.",
            "requirements": "To attend a sex offender assessment.",
        }  # fmt: skip
        short = form | {"case_number": "T20261821", "ends_on": TODAY.isoformat()}

        shown = await browser.get("/orders")
        recorded = await browser.post("/orders/made-on-conviction", data=without_none(form))
        refused = await browser.post("/orders/made-on-conviction", data=without_none(short))

    assert "Record an SHPO made on conviction" in shown.text
    assert recorded.status_code == 303, recorded.text
    assert refused.status_code == 409 and "Not done:" in refused.text
    assert 'value="T20261821"' in refused.text  # what was entered is kept

    async def registered() -> list[dict[str, Any]] | None:
        rows = await client.every("readmodels", "/orders", {"district": "north"})
        made = [row for row in rows if row["court"] == "Eastbury Crown Court" and row["team"]]
        return made or None

    [order] = await eventually(registered, 30, "the order on the register")
    assert (order["order_type"], order["ends_on"], order["team"]) == ("SHPO", None, "mosovo-north")
    assert [(t["kind"], t["until"]) for t in order["terms"]] == [
        ("prohibition", None), ("prohibition", None), ("requirement", None),
    ]  # fmt: skip


def without_none(form: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in form.items() if value is not None}
