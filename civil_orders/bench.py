"""The benchmark: synthetic cases through intake, application, order and alert.

Two latencies: from publishing the referral to the team receiving the order-allocated
alert, a case's commands (accept; build the case; quality assurance; court; grant) issued as
soon as the previous step is visible, as a caseworker with no backlog would; and from legal
services recording the grant to the team's system receiving the alert (its own clock, the
same machine's). The raw baseline
is a produce-then-consume round trip on the same broker, in the same run.
"""

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from civil_orders.client import Client
from civil_orders.demo import accept, build_case, court_grants, refer, to_court
from civil_orders.projections import named, rebuild_projections
from civil_orders.scan import Backlog, scan
from civil_orders.synthetic import DISTRICTS, Synthetic
from plumbing.chain import events_table
from plumbing.settings import EVENT_STORES

BASELINE_TOPIC = "bench.roundtrip.v1"


@dataclass(frozen=True)
class Figures:
    count: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_bench(client: Client, console: Console, referrals: int, concurrency: int) -> None:
    baseline = await broker_round_trip(client, referrals)
    people = Synthetic(seed=99)
    inbox = _Inbox(client)
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    grant_to_alert: list[float] = []

    with Progress(console=console) as progress:
        task = progress.add_task("cases to alert", total=referrals)

        async def one(number: int) -> None:
            async with gate:
                started = time.perf_counter()
                district = DISTRICTS[number % len(DISTRICTS)]
                referral = await refer(client, people, district)
                application = await accept(client, referral["id"])
                await build_case(client, application["id"])
                await to_court(client, application["id"], date.today())
                granted_at = time.time()
                reference = await court_grants(client, application["id"], date.today())
                received_at = await inbox.alerted(reference)
                latencies.append(time.perf_counter() - started)
                grant_to_alert.append(received_at - granted_at)
                progress.advance(task)

        began = time.perf_counter()
        poller = asyncio.create_task(inbox.poll())
        await asyncio.gather(*(one(n) for n in range(referrals)))
        elapsed = time.perf_counter() - began
        poller.cancel()

    figures = {
        "referral to alert": Figures(referrals, elapsed, latencies),
        "order granted to alert": Figures(referrals, elapsed, grant_to_alert),
        "raw broker round trip": baseline,
    }
    _report(console, figures, concurrency)


async def broker_round_trip(client: Client, count: int) -> Figures:
    """Publish and consume `count` small messages one at a time, on the same broker."""
    bootstrap = client.bootstrap_servers
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if BASELINE_TOPIC not in await admin.list_topics():
            await admin.create_topics([NewTopic(BASELINE_TOPIC, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    consumer = AIOKafkaConsumer(
        BASELINE_TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="latest"
    )
    await producer.start()
    await consumer.start()
    await producer.send_and_wait(BASELINE_TOPIC, b"warm-up")
    await consumer.getone()
    latencies = []
    began = time.perf_counter()
    try:
        for _ in range(count):
            started = time.perf_counter()
            await producer.send_and_wait(BASELINE_TOPIC, b"x" * 512)
            await consumer.getone()
            latencies.append(time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()
    return Figures(count, time.perf_counter() - began, latencies)


class _Inbox:
    """Watches the teams' webhook inboxes and mailboxes once for all cases."""

    WEBHOOK_TEAMS = ("mosovo-north", "mosovo-east")
    MAILBOX = "mosovo-south@teams.example"

    def __init__(self, client: Client) -> None:
        self.client = client
        self.received: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Event] = {}

    async def alerted(self, reference: str) -> float:
        """Waits for the order-allocated alert about `reference`; returns when it arrived."""
        await self.waiting.setdefault(reference, asyncio.Event()).wait()
        return self.received[reference]

    async def poll(self) -> None:
        while True:
            for team in self.WEBHOOK_TEAMS:
                for received in await self.client.team_alerts(team):
                    self._arrived(received["alert"]["order_reference"], received["received_at"])
            for email in await self.client.mail(self.MAILBOX):
                reference = email["body"].split("Order reference: ")[1].split()[0]
                self._arrived(reference, email["received_at"])
            await asyncio.sleep(0.02)

    def _arrived(self, reference: str, at: str) -> None:
        if reference not in self.received:
            self.received[reference] = datetime.fromisoformat(at).timestamp()
            self.waiting.setdefault(reference, asyncio.Event()).set()


async def run_scan_bench(client: Client, console: Console, disposals: int) -> None:
    """Screening throughput of a disposal backlog, against consuming the same topic raw."""
    backlog = Backlog(Synthetic(seed=98).disposals(disposals, suspects=disposals // 4), [])
    began = time.perf_counter()
    await scan(client, backlog, "bench", console)
    screened = time.perf_counter() - began
    raw = await raw_consume(client, "district.disposals.v1", disposals)
    table = Table(title=f"scanning {disposals} disposals")
    for column in ("measure", "disposals /s", "ratio to raw"):
        table.add_column(column, justify="right")
    table.add_row(
        "published and screened",
        f"{disposals / screened:.0f}",
        f"{raw / (disposals / screened):.0f}x slower",
    )
    table.add_row("raw consume, same topic", f"{raw:.0f}", "1x")
    console.print(table)


async def raw_consume(client: Client, topic: str, count: int) -> float:
    """Messages per second a plain consumer reads from the start of `topic`."""
    consumer = AIOKafkaConsumer(
        topic,
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


def _report(console: Console, figures: dict[str, Figures], concurrency: int) -> None:
    cases = figures["referral to alert"]
    table = Table(title=f"{cases.count} cases, {concurrency} in flight")
    for column in ("measure", "throughput /s", "p50 ms", "p95 ms", "p99 ms", "p50 / raw p50"):
        table.add_column(column, justify="right")
    raw_p50 = figures["raw broker round trip"].percentile(50)
    for name, measured in figures.items():
        table.add_row(
            name,
            f"{measured.throughput:.1f}",
            *(f"{measured.percentile(p) * 1000:.1f}" for p in (50, 95, 99)),
            f"{measured.percentile(50) / raw_p50:.0f}x",
        )
    console.print(table)
    console.print(f"mean {statistics.mean(cases.latencies) * 1000:.0f} ms per case, end to end")


async def run_rebuild_bench(client: Client, urls: dict[str, str], console: Console) -> None:
    """The rate of rebuilding every read model from the history in one pass (events of the
    history per second) against a raw read of the same event tables, in the same run."""
    history, raw_seconds = await raw_event_read(client.database_url)
    began = time.perf_counter()
    await rebuild_projections(client.database_url, urls, named([]), Console(quiet=True))
    rate, raw = history / (time.perf_counter() - began), history / raw_seconds
    table = Table(title=f"rebuilding read models from {history} stored events")
    for column in ("measure", "events /s", "share of raw read"):
        table.add_column(column, justify="right")
    table.add_row("rebuild every read model, one pass", f"{rate:.0f}", f"{rate / raw:.1%}")
    table.add_row("raw read of the event tables", f"{raw:.0f}", "100%")
    console.print(table)


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
