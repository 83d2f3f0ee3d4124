"""A service whose events were stored before it had an outbox makes their wire messages from
its history on start, the same as those made when the events were saved."""

from typing import Any

import psycopg

from civil_orders.drills.demo import accept, grant, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack


async def feed(client: Client, service: str) -> list[dict[str, Any]]:
    events, after = [], 0
    while page := (await client.get(service, f"/events?after={after}&limit=5000")).json()["events"]:
        events += page
        after = page[-1]["event"]["sequence"]
    return events


async def test_an_outbox_made_from_the_history_equals_the_one_made_as_events_were_saved(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=32)
    application = await accept(client, (await refer(client, people, "east"))["id"])
    await grant(client, application["id"])  # several events of one aggregate in one save
    saved = await feed(client, "application")
    assert {"OrderGranted", "OrderAllocated"} <= {e["event"]["event_type"] for e in saved}
    assert_chained(saved)

    stack.stop("application")
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE application.outbox")
    stack.start("application")

    remade = await feed(client, "application")
    assert remade[: len(saved)] == saved  # (a timer may have stored more since)
    assert_chained(remade)


def assert_chained(feed: list[dict[str, Any]]) -> None:
    """Each message names its own position in the log, and the position of the one before it
    of its aggregate on its topic (0: the first): what consumers take them in order by."""
    last: dict[tuple[str, str], int] = {}
    for message in feed:
        event = message["event"]
        stream = (message["topic"], event["aggregate_id"])
        assert event["previous_sequence"] == last.get(stream, 0), event
        last[stream] = event["sequence"]
    assert len({m["event"]["sequence"] for m in feed}) == len(feed)
