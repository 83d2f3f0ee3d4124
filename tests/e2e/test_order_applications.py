"""Applications about an order, through the web app: a caseworker opens a variation on the
managing team's reasons, quality assurance fails a changed term with no reason and passes it
with one, legal services take it to court, and only the court's grant changes the order's
terms; each step is published on the applications topic. A renewal review opens the police's
renewal application by itself."""

import json
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer

from civil_orders.drills.demo import alerts_for
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from schemas import dates
from services.application.domain_dates import years_after
from tests.e2e.test_order_calendar import order_for
from tests.web import Web, as_

TODAY = dates.today()
DEVICES = "To disclose every internet-capable device within 3 days of getting it."
TOPIC = "application.applications.v1"
PURPOSE = {"purpose": "managing the order"}


async def published(client: Client, application_id: str, count: int) -> list[dict[str, Any]]:
    """Waits for `count` messages about the application on the applications topic."""

    async def attempt() -> list[dict[str, Any]] | None:
        consumer = AIOKafkaConsumer(
            TOPIC, bootstrap_servers=client.bootstrap_servers, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            found = []
            while batch := await consumer.getmany(timeout_ms=1000):
                for records in batch.values():
                    found += [json.loads(r.value) for r in records]
        finally:
            await consumer.stop()
        mine = [m for m in found if m["aggregate_id"] == application_id]
        return sorted(mine, key=lambda m: m["sequence"]) if len(mine) >= count else None

    return await eventually(attempt, 30, f"{count} messages about {application_id} on {TOPIC}")


async def step(web: Web, application_id: str, path: str, body: Any = None) -> Any:
    response = await web.request(
        "POST", f"/api/order-applications/{application_id}/{path}", json=body
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def test_a_variation_passes_qa_only_with_its_reasons_and_changes_the_order_when_granted(
    client: Client,
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=191))
    caseworker, legal = await as_(client, "cw-1"), await as_(client, "ls-1")
    officer, elsewhere = await as_(client, "mosovo-north-1"), await as_(client, "mosovo-east-1")
    opening = {"kind": "variation", "applicant": "police",
               "grounds": "Synthetic: the team has found hidden devices."}  # fmt: skip
    path = f"/api/orders/{order_id}/applications"

    not_legal = await legal.request("POST", path, json=opening)
    opened = await caseworker.request("POST", path, json=opening)
    assert not_legal.status_code == 403 and opened.status_code == 201, opened.text
    application_id = opened.json()["application_id"]
    added = {"action": "add", "kind": "requirement", "wording": DEVICES, "reason": ""}
    await step(caseworker, application_id, "casework/term-changes", added)
    await step(caseworker, application_id, "casework/submit-for-qa")
    failed = await step(caseworker, application_id, "casework/quality-assurance")

    assert failed == {
        "passed": False,
        "missing": ["change 1 does not say why it is now necessary and proportionate"],
    }
    reasoned = added | {"reason": "Synthetic: he hid a phone from officers.", "replacing": 1}
    await step(caseworker, application_id, "casework/term-changes", reasoned)
    await step(caseworker, application_id, "casework/submit-for-qa")
    passed = await step(caseworker, application_id, "casework/quality-assurance")
    assert passed == {"passed": True, "missing": []}
    made = {"court": "Northtown Magistrates' Court", "made_on": TODAY.isoformat()}
    await step(legal, application_id, "court/application-made", made)
    await step(legal, application_id, "court/hearing", {"hearing_on": TODAY.isoformat()})

    before = (await officer.request("GET", f"/api/orders/{order_id}", params=PURPOSE)).json()
    assert [t["kind"] for t in before["terms"]] == ["prohibition"]
    [pending] = before["applications"]
    assert (pending["kind"], pending["stage"]) == ("variation", "hearing listed")
    other_team = await elsewhere.request(
        "GET", f"/api/order-applications/{application_id}", params=PURPOSE
    )
    assert other_team.status_code == 403

    await step(legal, application_id, "court/grant", {"decided_on": TODAY.isoformat()})

    after = (await officer.request("GET", f"/api/orders/{order_id}", params=PURPOSE)).json()
    assert [(t["kind"], t["wording"]) for t in after["terms"]] == [
        ("prohibition", before["terms"][0]["wording"]),
        ("requirement", DEVICES),
    ]
    assert [(a["stage"], a["outcome"]) for a in after["applications"]] == [("decided", "granted")]
    detail = await officer.request(
        "GET", f"/api/order-applications/{application_id}", params=PURPOSE
    )
    assert detail.json()["term_changes"][0]["reason"] == reasoned["reason"]
    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    assert "order varied: its terms have changed" in [a["alert"]["kind"] for a in alerts]
    messages = await published(client, application_id, 8)
    assert messages[0]["event_type"] == "OrderApplicationOpened"
    assert messages[0]["payload"]["order_reference"] == reference
    stages = [(m["payload"]["stage"], m["payload"]["outcome"]) for m in messages[1:]]
    assert stages == [
        ("quality assurance", None),
        ("drafting", None),
        ("quality assurance", None),
        ("with legal services", None),
        ("application made to court", None),
        ("hearing listed", None),
        ("decided", "granted"),
    ]
    assert messages[2]["payload"]["reason"].startswith("sealed:")  # personal: not in plain


async def test_a_renewal_review_opens_the_polices_renewal_application(client: Client) -> None:
    ends_on = TODAY + timedelta(days=20)
    order_id, reference = await order_for(
        client, Synthetic(seed=192), made_on=years_after(ends_on, -2), ends_on=ends_on
    )
    caseworker = await as_(client, "cw-1")

    listed = await caseworker.request(
        "GET", "/api/order-applications", params={"order_id": order_id, "in_progress": "true"}
    )

    [renewal] = listed.json()
    assert (renewal["kind"], renewal["applicant"], renewal["stage"]) == (
        "renewal",
        "police",
        "drafting",
    )
    assert renewal["order_reference"] == reference
    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    assert f"renewal review due: the order ends on {ends_on.isoformat()}" in [
        a["alert"]["kind"] for a in alerts
    ]
