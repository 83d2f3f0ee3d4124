"""The outbox relay publishes on an event loop of its own (`plumbing.relay.RelayProducer`), so a
page goes out while the service's own loop is busy with requests, in order per aggregate."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer

from civil_orders.stack.embedded import start_tansu
from plumbing.outbox import Message
from plumbing.relay import RelayProducer
from plumbing.settings import Settings


@pytest.fixture(scope="module")
def bootstrap_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, address = start_tansu(Path(tmp_path_factory.mktemp("tansu")), port=0)
    try:
        yield address
    finally:
        process.terminate()
        process.wait(10)


def page(topic: str, keys: int, each: int) -> list[Message]:
    """A page of the outbox: `each` messages of each of `keys` aggregates, interleaved."""
    return [
        Message(n * keys + k + 1, topic, f"aggregate-{k}".encode(), "Test", "c", b"%d" % n)
        for n in range(each)
        for k in range(keys)
    ]


async def test_a_page_goes_out_while_the_service_loop_is_busy(bootstrap_servers: str) -> None:
    settings = Settings(
        database_url="postgresql://localhost/never-used", kafka_bootstrap_servers=bootstrap_servers
    )
    topic = f"relay-test-{uuid4().hex[:8]}"
    messages = page(topic, keys=5, each=40)
    producer = RelayProducer(settings, "relay-test")
    await producer.start()
    try:
        published = threading.Event()

        def relay() -> None:  # as the relay's thread publishes a page
            producer.publish(messages)
            published.set()

        threading.Thread(target=relay, daemon=True).start()
        time.sleep(3)  # this loop (the service's) busy, as with a burst of requests
        assert published.is_set(), "the page waited for the service's loop"
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        received: dict[bytes, list[bytes]] = {}
        deadline = time.monotonic() + 20
        while sum(map(len, received.values())) < len(messages) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    assert record.key is not None and record.value is not None
                    received.setdefault(record.key, []).append(record.value)
    finally:
        await consumer.stop()
    assert received == {f"aggregate-{k}".encode(): [b"%d" % n for n in range(40)] for k in range(5)}
