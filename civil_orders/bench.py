"""The benchmark: synthetic cases through intake, application, order and alert.

End-to-end latency runs from publishing the referral to the team inbox receiving the
order-allocated alert; a case's commands (accept, grant) are issued as soon as the
previous step is visible, as a caseworker with no backlog would. The raw baseline is a
produce-then-consume round trip on the same broker, in the same run.
"""

import asyncio
import statistics
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from civil_orders.client import Client
from civil_orders.demo import accept, grant, refer
from civil_orders.synthetic import DISTRICTS, Synthetic

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

    with Progress(console=console) as progress:
        task = progress.add_task("cases to alert", total=referrals)

        async def one(number: int) -> None:
            async with gate:
                started = time.perf_counter()
                district = DISTRICTS[number % len(DISTRICTS)]
                referral = await refer(client, people, district)
                application = await accept(client, referral["id"])
                reference = await grant(client, application["id"])
                await inbox.alerted(reference)
                latencies.append(time.perf_counter() - started)
                progress.advance(task)

        began = time.perf_counter()
        poller = asyncio.create_task(inbox.poll())
        await asyncio.gather(*(one(n) for n in range(referrals)))
        elapsed = time.perf_counter() - began
        poller.cancel()

    _report(console, Figures(referrals, elapsed, latencies), baseline, concurrency)


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
    """Watches every team's inbox once for all cases, rather than once per case."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: set[str] = set()
        self.waiting: dict[str, asyncio.Event] = {}

    async def alerted(self, reference: str) -> None:
        event = self.waiting.setdefault(reference, asyncio.Event())
        if reference in self.seen:
            return
        await event.wait()

    async def poll(self) -> None:
        teams = ("mosovo-north", "mosovo-south", "mosovo-east")
        while True:
            for team in teams:
                for received in await self.client.team_alerts(team):
                    reference = received["alert"]["order_reference"]
                    if reference not in self.seen:
                        self.seen.add(reference)
                        self.waiting.setdefault(reference, asyncio.Event()).set()
            await asyncio.sleep(0.02)


def _report(console: Console, cases: Figures, raw: Figures, concurrency: int) -> None:
    table = Table(title=f"{cases.count} cases, {concurrency} in flight")
    for column in ("measure", "throughput /s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for name, figures in (("referral to alert", cases), ("raw broker round trip", raw)):
        table.add_row(
            name,
            f"{figures.throughput:.1f}",
            *(f"{figures.percentile(p) * 1000:.1f}" for p in (50, 95, 99)),
        )
    console.print(table)
    console.print(
        f"p50 ratio, case to raw round trip: {cases.percentile(50) / raw.percentile(50):.0f}x; "
        f"mean {statistics.mean(cases.latencies) * 1000:.0f} ms per case"
    )
