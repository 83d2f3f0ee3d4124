"""MOSOVO teams alerted: the right team only, by webhook or email, once, and escalated when
delivery fails or nobody acknowledges."""

import asyncio
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer

from civil_orders.drills.demo import (
    accept,
    alerts_for,
    awaiting_grant,
    court_grants,
    grant,
    inbox_entry,
    refer,
    team_managing,
)
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from plumbing.paging import NEXT_CURSOR as NEXT
from schemas import dates
from services.application.domain import BREACH_NOTIFICATION
from services.notification.channels import EMAIL_SUBJECT
from tests.web import as_


async def order_in(client: Client, people: Synthetic, district: str) -> str:
    """A granted order for a new synthetic subject in `district`; returns its reference."""
    referral = await refer(client, people, district)
    return await grant(client, (await accept(client, referral["id"]))["id"])


async def mail_for(
    client: Client, address: str, reference: str, count: int
) -> list[dict[str, Any]]:
    async def attempt() -> list[dict[str, Any]] | None:
        mine = [m for m in await client.mail(address) if reference in m["body"]]
        return mine if len(mine) >= count else None

    return await eventually(attempt, 30, f"{count} email(s) about {reference} to {address}")


async def test_an_allocation_alert_reaches_the_right_team_and_only_that_team(
    client: Client,
) -> None:
    reference = await order_in(client, Synthetic(seed=51), "west")

    await alerts_for(client, "mosovo-east", reference, count=1)
    entry = await inbox_entry(client, "mosovo-east", reference, status="delivered")
    assert entry["kind"] == "order allocated"
    for other in ("mosovo-north", "mosovo-south"):
        assert not [a for a in await client.team_alerts(other) if reference in str(a)]
        rows = (await client.get("notification", "/alerts", {"team": other})).json()
        assert not [r for r in rows if r["order_reference"] == reference]


async def test_a_team_alerted_by_email_gets_a_subject_that_says_nothing_about_the_case(
    client: Client,
) -> None:
    people = Synthetic(seed=52)
    reference = await order_in(client, people, "south")

    [email] = await mail_for(client, "mosovo-south@teams.example", reference, count=1)
    assert email["subject"] == EMAIL_SUBJECT
    assert "order allocated" in email["body"]
    assert f"/orders/{reference}" in email["body"]
    for given_or_family in ("Arlo", "Bryn", "Cass", "Dell", "Emrys", "Ashdown", "Dunmere"):
        assert given_or_family not in email["subject"] + email["body"]


async def test_a_repeat_breach_is_flagged_as_such_with_the_count(client: Client) -> None:
    people = Synthetic(seed=53)
    reference = await order_in(client, people, "north")
    await team_managing(client, reference)

    await client.publish(people.breach("north", reference))
    await alerts_for(client, "mosovo-north", reference, count=2)
    await client.publish(people.breach("north", reference))
    alerts = await alerts_for(client, "mosovo-north", reference, count=3)

    assert sorted(a["alert"]["kind"] for a in alerts) == [
        "breach",
        "order allocated",
        "repeat breach (number 2)",
    ]


async def test_inboxes_are_read_a_page_at_a_time_and_a_poller_asks_only_for_what_is_new(
    client: Client,
) -> None:
    people = Synthetic(seed=65)
    reference = await order_in(client, people, "north")
    await team_managing(client, reference)
    [allocated] = await alerts_for(client, "mosovo-north", reference, count=1)

    # A poller of the team's own system remembers the last position it saw...
    await client.publish(people.breach("north", reference))
    await alerts_for(client, "mosovo-north", reference, count=2)
    since = await client.team_alerts("mosovo-north", after=allocated["position"])
    assert all(a["position"] > allocated["position"] for a in since)
    assert [a["alert"]["kind"] for a in since if a["alert"]["order_reference"] == reference] == [
        "breach"
    ]

    # ...and the notification service's inbox, newest first, pages by cursor.
    inbox, north = "/alerts", {"team": "mosovo-north"}
    await inbox_entry(client, "mosovo-north", reference, kind="breach")
    first = await client.get("notification", inbox, {**north, "limit": 1})
    second = await client.get(
        "notification", inbox, {**north, "limit": 1, "cursor": first.headers[NEXT]}
    )
    [newer], [older] = first.json(), second.json()
    assert datetime.fromisoformat(older["requested_at"]) <= datetime.fromisoformat(
        newer["requested_at"]
    )
    assert older["alert_id"] != newer["alert_id"]

    # The web app's API passes pages on, and a bad cursor or limit back as the 422 it is.
    officer = await as_(client, "mosovo-north-1")
    page = await officer.request("GET", "/api/alerts", params={"limit": 1})
    after = await officer.request(
        "GET", "/api/alerts", params={"limit": 1, "cursor": page.headers[NEXT]}
    )
    assert page.json()[0]["alert_id"] != after.json()[0]["alert_id"]
    for bad in ({"limit": 0}, {"limit": 100_000}, {"cursor": "yesterday"}):
        for refused in (
            await client.get("notification", inbox, bad),
            await officer.request("GET", "/api/alerts", params=bad),
        ):
            assert refused.status_code == 422, (bad, refused.text)
            assert [*bad][0] in str(refused.json()["detail"])


async def test_a_kafka_message_delivered_twice_produces_one_alert(client: Client) -> None:
    reference = await order_in(client, Synthetic(seed=54), "north")
    await alerts_for(client, "mosovo-north", reference, count=1)

    # take the very bytes the application service published, and deliver them again
    consumer = AIOKafkaConsumer(
        "application.orders.v1",
        bootstrap_servers=client.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        allocated = None
        while allocated is None:
            batch = await consumer.getmany(timeout_ms=2000)
            for records in batch.values():
                for record in records:
                    if b"OrderAllocated" in record.value and reference.encode() in record.value:
                        allocated = record
    finally:
        await consumer.stop()
    await client.publish_raw("application.orders.v1", allocated.value, key=allocated.key)
    await client.publish_raw("application.orders.v1", allocated.value, key=allocated.key)
    later = await order_in(client, Synthetic(seed=55), "north")  # same topic, after them
    await alerts_for(client, "mosovo-north", later, count=1)

    [received] = await alerts_for(client, "mosovo-north", reference, count=1)
    assert received["copies"] == 1
    rows = (await client.get("notification", "/alerts", {"team": "mosovo-north"})).json()
    assert len([r for r in rows if r["order_reference"] == reference]) == 1


async def test_a_webhook_that_fails_three_times_then_succeeds_is_delivered_on_the_fourth(
    client: Client,
) -> None:
    response = await client.http.post(
        f"{client.urls['team-inbox']}/teams/mosovo-east/fail-next", json={"count": 3}
    )
    response.raise_for_status()

    reference = await order_in(client, Synthetic(seed=56), "east")

    [received] = await alerts_for(client, "mosovo-east", reference, count=1)
    assert received["copies"] == 1
    entry = await inbox_entry(client, "mosovo-east", reference, status="delivered")
    assert entry["attempts"] == 4
    assert entry["escalated_at"] is None or entry["escalation_reason"].startswith("not ack")


async def test_a_webhook_that_never_answers_shows_failed_and_escalates_to_the_fallback(
    client: Client,
) -> None:
    await client.http.post(
        f"{client.urls['team-inbox']}/teams/mosovo-east/fail-next", json={"count": 4}
    )

    reference = await order_in(client, Synthetic(seed=57), "east")

    # the inbox applies the alert's Failed and Escalated events one after the other
    failed = {"status": "failed", "escalation_reason": "delivery failed: HTTP 503"}
    entry = await inbox_entry(client, "mosovo-east", reference, **failed)
    assert entry["failure"] == "HTTP 503"
    [email] = await mail_for(client, "mosovo-east-duty@teams.example", reference, count=1)
    assert "escalated: order allocated" in email["body"]
    await inbox_entry(
        client, "mosovo-east", reference, escalation="sent by email mosovo-east-duty@teams.example"
    )


async def test_a_team_whose_webhook_hangs_holds_up_only_its_own_alerts(client: Client) -> None:
    people = Synthetic(seed=59)
    east, north = [await awaiting_grant(client, people, d) for d in ("east", "north")]
    # each of east's next three deliveries hangs past the send timeout (two seconds here)
    hanging = {"count": 3, "hang_seconds": 10}
    response = await client.http.post(
        f"{client.urls['team-inbox']}/teams/mosovo-east/fail-next", json=hanging
    )
    response.raise_for_status()

    east_order = await court_grants(client, east, dates.today())
    north_order = await court_grants(client, north, dates.today())

    await alerts_for(client, "mosovo-north", north_order, count=1)
    # east's alert is still being tried (three timeouts and their backoff: ~6.7 s)
    still = await inbox_entry(client, "mosovo-east", east_order)
    assert still["status"] == "requested"
    [received] = await alerts_for(client, "mosovo-east", east_order, count=1)
    assert received["copies"] == 1
    entry = await inbox_entry(client, "mosovo-east", east_order, status="delivered")
    assert entry["attempts"] == 4


async def test_an_unacknowledged_alert_is_escalated_once_and_an_acknowledged_one_is_not(
    client: Client,
) -> None:
    people = Synthetic(seed=58)
    ignored = await order_in(client, people, "north")
    seen = await order_in(client, people, "north")
    acknowledged = await inbox_entry(client, "mosovo-north", seen, status="delivered")
    response = await client.http.post(
        f"{client.urls['notification']}/alerts/{acknowledged['alert_id']}/acknowledge",
        headers={"X-Actor": "mosovo:officer-3"},
    )
    assert response.status_code == 204

    await mail_for(client, "mosovo-north-duty@teams.example", ignored, count=1)
    await asyncio.sleep(2)  # four more looks for unacknowledged alerts

    assert (
        len(
            [
                m
                for m in await client.mail("mosovo-north-duty@teams.example")
                if ignored in m["body"]
            ]
        )
        == 1
    )
    assert not [
        m for m in await client.mail("mosovo-north-duty@teams.example") if seen in m["body"]
    ]
    entry = await inbox_entry(client, "mosovo-north", seen, acknowledged_by="mosovo:officer-3")
    assert entry["escalated_at"] is None


async def test_a_reallocated_order_alerts_its_new_team_and_its_breaches_go_there(
    client: Client,
) -> None:
    people = Synthetic(seed=59)
    referral = await refer(client, people, "north")
    application = await accept(client, referral["id"])
    reference = await grant(client, application["id"])
    order_id = (await client.get("application", f"/applications/{application['id']}")).json()[
        "order_id"
    ]

    await client.command(
        "application",
        f"/orders/{order_id}/reallocate",
        "caseworker:cw-1",
        {"team": "mosovo-east", "reason": "subject moved to the east district"},
    )

    [moved] = await alerts_for(client, "mosovo-east", reference, count=1)
    assert moved["alert"]["kind"] == "order reallocated to your team from mosovo-north"

    async def known_to_east() -> bool:
        return await team_managing(client, reference) == "mosovo-east"

    await eventually(known_to_east, 30, "the breach service to see the reallocation")
    await client.publish(people.breach("north", reference))
    alerts = await alerts_for(client, "mosovo-east", reference, count=2)
    assert sorted(a["alert"]["kind"] for a in alerts)[0] == "breach"


async def test_a_breach_goes_on_to_its_outcome_and_keeps_it(client: Client) -> None:
    people = Synthetic(seed=60)
    reference = await order_in(client, people, "north")
    await team_managing(client, reference)
    recorded = await client.command(
        "breach",
        "/breaches",
        "mosovo:officer-3",
        people.breach("north", reference).payload.model_dump(mode="json"),
    )
    path = f"/breaches/{recorded['id']}/outcome"

    await client.command("breach", path, "mosovo:officer-3", {"outcome": "charged"})
    await client.command(
        "breach", path, "legal-services:ls-1", {"outcome": "convicted", "sentence": "16 weeks"}
    )
    refused = await client.http.post(
        f"{client.urls['breach']}{path}",
        json={"outcome": "acquitted"},
        headers={"X-Actor": "legal-services:ls-1"},
    )

    assert refused.status_code == 409
    assert refused.json() == {"detail": "the breach already has its outcome: convicted"}
    breach = (await client.get("breach", f"/breaches/{recorded['id']}")).json()
    assert (breach["outcome"], breach["sentence"]) == ("convicted", "16 weeks")
    # convicted of breaching an SRO, its subject is now under the full notification rules
    async def on_the_register() -> list[dict[str, Any]] | None:
        found = await client.every("readmodels", "/orders", {"order_reference": reference})
        return found or None

    [row] = await eventually(on_the_register, 30, f"{reference} on the register")

    async def notification_requirements() -> bool:
        order = (await client.get("application", f"/orders/{row['order_id']}")).json()
        return bool(order["notification"]["requirement"] == BREACH_NOTIFICATION)

    await eventually(notification_requirements, 30, "the order to note the conviction")
