"""What operations watch: health, metrics that move, and logs that are JSON, correlated,
and free of personal data."""

import json
import re
from pathlib import Path

from civil_orders.drills.demo import accept, alerts_for, grant
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack
from plumbing.settings import SERVICE_PORTS


def metric(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name` whose labels include `labels`."""
    for found in re.finditer(rf"^{re.escape(name)}\{{([^}}]*)\}} (\S+)$", text, re.MULTILINE):
        sample = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
        if labels.items() <= sample.items():
            return float(found.group(2))
    raise AssertionError(f"no {name} with {labels} in the scrape")


async def scrape(client: Client, service: str) -> str:
    response = await client.get(service, "/metrics")
    assert response.status_code == 200
    return response.text


async def test_every_service_is_live_and_ready_with_each_check_named(client: Client) -> None:
    for service in SERVICE_PORTS:
        assert (await client.get(service, "/health/live")).status_code == 200
        ready = (await client.get(service, "/health/ready")).json()
        assert ready == {
            "status": "ready",
            "checks": {"database": True, "broker": True, "consumer": True, "followers": True},
        }


async def test_every_service_serves_its_metrics_as_prometheus_text(client: Client) -> None:
    for service in SERVICE_PORTS:  # the read models' service too, which keeps no events
        response = await client.get(service, "/metrics")

        assert response.status_code == 200, service
        assert response.headers["content-type"].startswith("text/plain")
        assert metric(response.text, "civil_orders_dead_letters", service=service) >= 0


async def test_metrics_move_when_a_case_goes_through(client: Client) -> None:
    before = await scrape(client, "notification")
    stored_before = metric(before, "civil_orders_events_stored", service="notification")

    people = Synthetic(seed=71)
    referral = people.referral("north")
    await client.publish(referral)
    recorded = await client.found(
        "referral", f"/referrals/by-reference/north/{referral.payload.district_reference}"
    )
    reference = await grant(client, (await accept(client, recorded["id"]))["id"])
    await alerts_for(client, "mosovo-north", reference, count=1)

    after = await scrape(client, "notification")
    assert metric(after, "civil_orders_events_stored", service="notification") > stored_before
    assert metric(after, "civil_orders_alerts", team="mosovo-north", status="delivered") >= 1
    application = await scrape(client, "application")
    relay = re.search(r'follower="(outbox:[^"]+)",service="application"', application)
    assert relay, "the application service's outbox relay reports its lag"
    lag = metric(application, "civil_orders_follower_lag", follower=relay.group(1))
    assert lag >= 0
    assert "civil_orders_received_messages_total" in after  # faststream's own counters
    assert "civil_orders_dead_letters" in after


async def test_log_lines_are_json_with_correlation_ids_and_no_names_or_dates_of_birth(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=72)
    referral = people.referral("north")
    subject = referral.payload.subject
    await client.publish(referral)
    recorded = await client.found(
        "referral", f"/referrals/by-reference/north/{referral.payload.district_reference}"
    )
    reference = await grant(client, (await accept(client, recorded["id"]))["id"])
    await alerts_for(client, "mosovo-north", reference, count=1)

    handled = 0
    for service in SERVICE_PORTS:
        text = Path(stack.data_dir, f"{service}.log").read_text()
        assert subject.name not in text
        assert subject.date_of_birth.isoformat() not in text
        for line in text.splitlines():
            entry = json.loads(line)  # every line is one JSON object
            assert entry["service"] == service
            if entry["event"] == "command handled":
                assert re.fullmatch(r"[0-9a-f-]{36}", entry["correlation_id"])
                handled += 1
            if entry["event"] == "batch handled":
                assert entry["correlation_ids"]
                for correlation_id in entry["correlation_ids"]:
                    assert re.fullmatch(r"[0-9a-f-]{36}", correlation_id)
                handled += 1
    assert handled >= 4
