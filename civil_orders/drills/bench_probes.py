"""How the benchmark measures: raw baselines on the same broker and database, counts of what
the stack stored and of the database transactions it took, and waits for it to finish or
catch up."""

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from eventsourcing.utils import get_topic
from rich.console import Console

from civil_orders.stack.client import POLL_SECONDS, STALL_SECONDS, Client
from plumbing.chain import events_table
from plumbing.settings import EVENT_STORES, SERVICE_PORTS
from services.referral.domain import Referral

ROUND_TRIP_TOPIC = "bench.roundtrip"
INTAKE_TOPIC = "bench.intake"


# PostgreSQL (15 and later) flushes a busy backend's statistics at most once a second and an
# idle one's within 10 s, so counters read 11 s after the work stopped include all of it.
STATISTICS_SETTLE_SECONDS = 11
# longer than a consumer's fetch wait (500 ms), so that a message on its way shows
STEADY_SECONDS = 1.5
CONSUMER_LAG = "civil_orders_consumer_lag"
LAGS = (CONSUMER_LAG, "civil_orders_follower_lag")
GAUGE = re.compile(r"^((?:civil_orders_events_stored|civil_orders_\w+_lag)\{[^}]*\}) (\S+)$", re.M)


@dataclass(frozen=True)
class Latencies:
    seconds: list[float]

    def ms(self, p: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class _Polls:
    count = 0


@contextmanager
def looked_too_soon(http: httpx.AsyncClient) -> Iterator[_Polls]:
    """Counts the bench's reads that found nothing yet. Waiting for a step to show, the bench
    looks every 50 ms, and each look costs one database transaction in the service it asks:
    the bench's cost, not the case's, so it is left out of the transactions per case."""
    polls = _Polls()

    async def seen(response: httpx.Response) -> None:
        if response.request.method == "GET" and response.status_code == 404:
            polls.count += 1

    hooks = http.event_hooks
    http.event_hooks = {**hooks, "response": [*hooks["response"], seen]}
    try:
        yield polls
    finally:
        http.event_hooks = hooks


async def broker_round_trip(client: Client, count: int) -> Latencies:
    """Publish and consume `count` small messages one at a time, on the same broker."""
    servers = client.bootstrap_servers
    async with (
        scratch_topic(servers, ROUND_TRIP_TOPIC, 1) as (topic, producer),
        reading_from_now(servers, topic, 1) as consumer,
    ):

        async def round_trip(value: bytes) -> float:
            started = time.perf_counter()
            await producer.send_and_wait(topic, value)
            try:
                await asyncio.wait_for(consumer.getone(), STALL_SECONDS)
            except TimeoutError:
                raise TimeoutError(f"the broker gave nothing back in {STALL_SECONDS} s") from None
            return time.perf_counter() - started

        await round_trip(b"warm-up")
        return Latencies([await round_trip(b"x" * 512) for _ in range(count)])


@asynccontextmanager
async def scratch_topic(
    bootstrap_servers: str, prefix: str, partitions: int
) -> AsyncIterator[tuple[str, AIOKafkaProducer]]:
    """A new topic for one measurement, with a producer of its own (as the stack's client
    produces: acks from all), both gone after it. Not one topic kept from run to run: the
    embedded broker answers a fetch more slowly the more batches a partition holds (a round
    trip on a new topic ~2 ms, on one holding 10,000 single-message batches 16–23 ms), so a
    baseline on a topic every run added to grew slower run after run. (A producer that
    outlived the topic would ask for it again, and the broker makes a topic asked for.)"""
    name = f"{prefix}.{uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
        await producer.start()
        try:
            yield name, producer
        finally:
            await producer.stop()
            await admin.delete_topics([name])
    finally:
        await admin.close()


async def raw_produce_consume(
    client: Client, messages: list[tuple[bytes, bytes]], partitions: int
) -> float:
    """Messages per second from handing them all to the producer to a plain consumer having
    read them all, on a scratch topic with as many partitions."""
    servers = client.bootstrap_servers
    async with (
        scratch_topic(servers, INTAKE_TOPIC, partitions) as (topic, producer),
        reading_from_now(servers, topic, partitions) as consumer,
    ):

        async def read_all() -> float:
            read = 0
            while read < len(messages):
                batches = await consumer.getmany(timeout_ms=STALL_SECONDS * 1000)
                if not batches:
                    raise TimeoutError(f"the scratch topic gave {read} of {len(messages)}")
                read += sum(len(records) for records in batches.values())
            return time.perf_counter()

        reading = asyncio.create_task(read_all())
        began = time.perf_counter()
        sent = [await producer.send(topic, v, key=k) for k, v in messages]
        await asyncio.gather(*sent)
        return len(messages) / (await reading - began)


@asynccontextmanager
async def reading_from_now(
    servers: str, topic: str, partitions: int
) -> AsyncIterator[AIOKafkaConsumer]:
    """A plain consumer of the topic's partitions from their ends as they are now: each
    position settled before anything is sent. (One left to settle it as it starts fetching
    may find a message sent meanwhile already there, start after it and wait for it for
    ever: the round trip's first message did, and the bench hung.)"""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for partition in assigned:
            await consumer.position(partition)
        yield consumer
    finally:
        await consumer.stop()


async def raw_consume(client: Client, topic_name: str, count: int) -> float:
    """Messages per second a plain consumer reads from the start of `topic_name`."""
    consumer = AIOKafkaConsumer(
        topic_name,
        bootstrap_servers=client.bootstrap_servers,
        group_id=f"bench-{time.time_ns()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=5000, max_records=1)  # joined, and fetching
        read, began = 1, time.perf_counter()
        while read < count:
            batch = await consumer.getmany(timeout_ms=2000)
            if not batch:
                break
            read += sum(len(records) for records in batch.values())
        return read / (time.perf_counter() - began)
    finally:
        await consumer.stop()


async def raw_event_read(database_url: str) -> tuple[int, float]:
    """Every stored event of every service, read plainly in log order: (events, seconds)."""
    connection = await asyncpg.connect(database_url)
    try:
        began, count = time.perf_counter(), 0
        for service in EVENT_STORES:
            async with connection.transaction():
                cursor = connection.cursor(
                    f"SELECT * FROM {service}.{events_table(service)} ORDER BY notification_id"
                )
                async for _ in cursor:
                    count += 1
        return count, time.perf_counter() - began
    finally:
        await connection.close()


class Database:
    """The bench's own connection: counts of stored events and of transactions. Each of its
    statements is a transaction of its own, which it counts, so that its own are left out of
    the transactions it reports."""

    RECEIVED = get_topic(Referral.Received)

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.statements = 0

    @classmethod
    async def connect(cls, database_url: str) -> "Database":
        return cls(await asyncpg.connect(database_url))

    async def close(self) -> None:
        await self.connection.close()

    async def _value(self, query: str, *args: object) -> Any:
        self.statements += 1
        return await self.connection.fetchval(query, *args)

    async def version(self) -> str:
        return str(await self._value("SHOW server_version"))

    async def settled_transactions(self, console: Console) -> int:
        """Transactions committed or rolled back in this database by everyone but the bench,
        once every backend has flushed its statistics (a statement of its own, so it reads
        them afresh)."""
        with console.status("letting PostgreSQL's statistics settle"):
            await asyncio.sleep(STATISTICS_SETTLE_SECONDS)
        own = self.statements
        total = await self._value(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return int(total) - own

    async def last_event(self, service: str) -> int:
        table = f"{service}.{events_table(service)}"
        return int(await self._value(f"SELECT coalesce(max(notification_id), 0) FROM {table}"))

    async def event_marks(self) -> dict[str, int]:
        return {service: await self.last_event(service) for service in EVENT_STORES}

    async def stored_since(self, marks: dict[str, int]) -> int:
        """Events every service stored after `marks`."""
        total = 0
        for service, mark in marks.items():
            table = f"{service}.{events_table(service)}"
            total += await self._value(
                f"SELECT count(*) FROM {table} WHERE notification_id > $1", mark
            )
        return total

    def referrals_received_since(self, mark: int) -> Callable[[], Awaitable[int]]:
        """A count of the referrals recorded after position `mark`, each look reading only
        what was stored since the one before (a look that counted from the mark again cost
        PostgreSQL ~6 ms by the end of a 5,000-referral intake, one every 20 ms, on the cores
        being measured). Events are stored one transaction at a time with the table locked,
        so none appears later below a position already seen."""
        table = f"referral.{events_table('referral')}"
        seen, counted = mark, 0

        async def count() -> int:
            nonlocal seen, counted
            self.statements += 1
            received, last = await self.connection.fetchrow(
                f"SELECT count(*) FILTER (WHERE topic = $2), max(notification_id) FROM {table}"
                " WHERE notification_id > $1",
                seen,
                self.RECEIVED,
            )
            seen, counted = last or seen, counted + received
            return counted

        return count


async def caught_up(client: Client, console: Console) -> None:
    """Waits until every service has consumed all its messages and nothing its gauges show
    (events stored, follower and consumer lags) has moved for STEADY_SECONDS. Not until every
    lag is zero: a follower records its position only with an event it acts on, so its lag
    rests at the events it passed over (the alert dispatcher's at its own last Delivered)."""
    previous: dict[str, float] = {}
    steady_since = moved_at = time.perf_counter()
    least = float("inf")
    with console.status("waiting for the stack to catch up") as status:
        while True:
            gauges = await stack_gauges(client)
            now = time.perf_counter()
            unconsumed = sum(v for k, v in gauges.items() if k.startswith(CONSUMER_LAG))
            if gauges != previous:
                previous, steady_since = gauges, now
            elif unconsumed == 0 and now - steady_since >= STEADY_SECONDS:
                return
            lag = sum(v for k, v in gauges.items() if k.startswith(LAGS))
            if lag < least:
                least, moved_at = lag, now
            elif now - moved_at > STALL_SECONDS:
                raise TimeoutError(f"the stack stayed {lag:,.0f} behind for {STALL_SECONDS} s")
            status.update(f"waiting for the stack to catch up: {lag:,.0f} behind")
            await asyncio.sleep(POLL_SECONDS * 10)


async def stack_gauges(client: Client) -> dict[str, float]:
    """Every service's gauges of events stored and of lag, by name and labels."""
    gauges: dict[str, float] = {}
    for service in SERVICE_PORTS:
        response = await client.get(service, "/metrics")
        gauges |= {key: float(value) for key, value in GAUGE.findall(response.text)}
    return gauges
