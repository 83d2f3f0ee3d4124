"""The outbox relay dies after publishing a batch and before recording its position: started
again, it publishes the batch again, and every event takes effect once, in order. A message
that reaches the broker ahead of its predecessor (a relay that carried on into a replaced
broker) is held back until the relay sends them in order."""

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from civil_orders.drills.demo import accept, alerts_for, grant, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from plumbing.relay import FAILPOINT
from plumbing.topics_admin import cluster_id
from schemas.application import OrderAllocatedV1, OrderGrantedV1
from schemas.topics import topic, topic_of

ORDERS = 3


@contextmanager
def holding(database_url: str, lock: str) -> Iterator[None]:
    """Hold a follower's leadership lock, so no replica of its service runs it meanwhile."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
        yield


async def published(bootstrap_servers: str, name: str, references: list[str]) -> Counter[str]:
    """How many times each event about these orders is on topic `name`, by event type: read
    from the start to the end it has now, without joining a group (a join waits seconds on
    the broker, and an empty read seconds more to be sure of the end)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    copies: Counter[str] = Counter()
    try:
        partitions = [TopicPartition(name, p) for p in range(topic(name).partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [p for p, end in ends.items() if await consumer.position(p) < end]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    text = (record.value or b"").decode()
                    for reference in references:
                        if reference in text:
                            kind = dict(record.headers)["event_type"].decode()
                            copies[f"{kind} {reference}"] += 1
    finally:
        await consumer.stop()
    return copies


async def test_a_relay_killed_between_publishing_a_batch_and_recording_it_delivers_once_in_order(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=31)
    referrals = [await refer(client, people, "north") for _ in range(ORDERS)]
    applications = [await accept(client, referral["id"]) for referral in referrals]
    before = {(d.service, d.id) for d in await client.dead_letters()}
    relay = f"civil-orders:application:outbox:{await cluster_id(stack.bootstrap_servers)}"

    stack.kill("application")
    with holding(stack.database_url, relay):
        # the orders are granted while no relay may publish them, by a service whose relay
        # is to die after publishing its first batch
        stack.start("application", env={FAILPOINT: "relay:published"})
        references = [await grant(client, a["id"]) for a in applications]
    # the lock is free: the relay publishes everything stored, then dies before recording it
    crashed = stack.processes.pop("application")
    assert crashed.wait(timeout=60) == 70
    stack.start("application")  # and publishes the same batch again

    for reference in references:
        [received] = await alerts_for(client, "mosovo-north", reference, count=1)
        assert received["copies"] == 1
        # the breach service took the grant before the allocation, or it would have refused it
        assert await team_managing(client, reference) == "mosovo-north"
    assert {(d.service, d.id) for d in await client.dead_letters()} == before
    orders = topic_of(OrderGrantedV1).name
    assert topic_of(OrderAllocatedV1).name == orders
    copies = await published(stack.bootstrap_servers, orders, references)
    kinds = ("OrderGranted", "OrderAllocated")
    assert {f"{kind} {reference}" for reference in references for kind in kinds} <= copies.keys()
    assert set(copies.values()) == {2}  # each message of the batch published twice, no more


async def held_back(client: Client, service: str) -> float:
    """How many events `service` has held back for arriving before their predecessor."""
    metrics = (await client.get(service, "/metrics")).text
    counts = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("civil_orders_events_held_back_total{")
    ]
    return sum(counts)


async def test_a_message_that_reaches_the_broker_before_its_predecessor_waits_for_it(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=37)
    application = await accept(client, (await refer(client, people, "north"))["id"])
    before = {(d.service, d.id) for d in await client.dead_letters()}
    held_before = await held_back(client, "breach")
    relay = f"civil-orders:application:outbox:{await cluster_id(stack.bootstrap_servers)}"

    stack.kill("application")
    with holding(stack.database_url, relay):
        stack.start("application")
        reference = await grant(client, application["id"])
        # the allocation reaches the broker alone, as the tail of a page a relay was sending
        # when its broker was replaced would: before the grant it follows
        feed = (await client.get("application", "/events", params={"limit": 5000})).json()
        [allocated] = [
            entry["event"]
            for entry in feed["events"]
            if entry["event"]["event_type"] == "OrderAllocated"
            and entry["event"]["payload"]["order_reference"] == reference
        ]
        await client.publish_raw(
            topic_of(OrderAllocatedV1).name,
            json.dumps(allocated).encode(),
            key=allocated["aggregate_id"].encode(),
        )

        async def taken_or_held_back() -> bool | None:
            refused = {(d.service, d.id) for d in await client.dead_letters()} != before
            return refused or await held_back(client, "breach") > held_before or None

        await eventually(taken_or_held_back, 30, "the breach service to see the allocation")
    # the relay may publish: the grant, then the allocation again

    [received] = await alerts_for(client, "mosovo-north", reference, count=1)
    assert received["copies"] == 1
    # the breach service took the grant before the allocation, or it would have refused it
    assert await team_managing(client, reference) == "mosovo-north"
    assert {(d.service, d.id) for d in await client.dead_letters()} == before
