"""The benchmark: issue 12's figures, each beside a baseline measured in the same run.

Areas, in the order they run (the stack is let catch up between them, so that no area pays
for work an earlier one left behind):
- end to end: cases driven many at once (a caseworker with no backlog issues each command as
  soon as the previous step shows), with their stored events per second and database
  transactions per case, beside the eventsourcing library's own in-process System doing
  referral → order → alert on the same PostgreSQL (`civil_orders/peer.py`);
- latency: from legal services recording the grant to the team's webhook receiving the
  alert, and from publishing the referral to the alert, with many cases in flight and with
  one, beside a raw broker round trip;
- bulk intake: district referrals published at once until all are recorded, beside a raw
  produce-and-consume of the same messages;
- screening: disposals published until the referral service has committed every one, beside
  a raw consume of the same topic;
- rebuild: the read models rebuilt from the history, beside a raw read of the event tables.
"""

import asyncio
import math
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from eventsourcing.utils import get_topic
from rich.console import Console
from rich.progress import Progress, TaskID

from civil_orders.bench_figures import PERCENTILES, Area, Figure, LatencyArea, Report, Target
from civil_orders.client import Client
from civil_orders.demo import accept, build_case, court_grants, refer, to_court
from civil_orders.peer import Peer, PeerRun
from civil_orders.projections import named, rebuild_projections
from civil_orders.scan import disposal_envelope
from civil_orders.synthetic import DISTRICTS, Synthetic
from plumbing.chain import events_table
from plumbing.settings import EVENT_STORES, SERVICE_PORTS
from schemas.topics import topic
from services.referral.domain import Referral

ROUND_TRIP_TOPIC = "bench.roundtrip.v1"
INTAKE_TOPIC = "bench.intake.v1"
REFERRALS = "district.referrals.v1"
DISPOSALS = "district.disposals.v1"
SCREENING_GROUP = "referral"  # the referral service's consumer group screens disposals
ROUND_TRIPS = 500
ISSUE_CONCURRENCY = 16  # the cases in flight issue 12's many-in-flight target is stated for
# PostgreSQL (15 and later) flushes a busy backend's statistics at most once a second and an
# idle one's within 10 s, so counters read 11 s after the work stopped include all of it.
STATISTICS_SETTLE_SECONDS = 11
STALL_SECONDS = 60  # give up waiting when nothing has moved for this long
POLL_SECONDS = 0.02
# longer than a consumer's fetch wait (500 ms), so that a message on its way shows
STEADY_SECONDS = 1.5
CONSUMER_LAG = "civil_orders_consumer_lag"
LAGS = (CONSUMER_LAG, "civil_orders_follower_lag")
GAUGE = re.compile(r"^((?:civil_orders_events_stored|civil_orders_\w+_lag)\{[^}]*\}) (\S+)$", re.M)


@dataclass(frozen=True)
class Plan:
    cases: int
    concurrency: int
    single: int
    peer: int
    bulk: int
    disposals: int
    rebuild: bool

    def parameters(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "concurrency": self.concurrency,
            "single_cases": self.single,
            "peer_cases": self.peer,
            "bulk_referrals": self.bulk,
            "disposals": self.disposals,
            "rebuild": self.rebuild,
            "round_trips": ROUND_TRIPS,
            "cores": os.cpu_count(),
            "psycopg_impl": psycopg.pq.__impl__,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


async def run_bench(client: Client, urls: dict[str, str], console: Console, plan: Plan) -> Report:
    """Measure every area the plan asks for, printing each area's table as it is done."""
    database = await Database.connect(client.database_url)
    report = Report(plan.parameters() | {"postgres_version": await database.version()})

    def done(area: Area) -> None:
        report.areas.append(area)
        console.print(area.table())

    try:
        raw = await broker_round_trip(client, ROUND_TRIPS)
        await caught_up(client, console)
        measured = await end_to_end(client, database, console, plan)
        report.details |= measured.details()
        done(measured.area(plan.concurrency))
        single = None
        if plan.single:
            await caught_up(client, console)
            single = await run_cases(client, console, plan.single, 1)
        done(latency_area(raw, single, measured.run, plan.concurrency))
        if plan.bulk:
            await caught_up(client, console)
            done(await bulk_intake(client, database, console, plan.bulk))
        if plan.disposals:
            await caught_up(client, console)
            done(await screening(client, console, plan.disposals))
        if plan.rebuild:
            await caught_up(client, console)
            done(await rebuild(client, urls, console, report.details))
    finally:
        await database.close()
    return report


# --- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latencies:
    seconds: list[float]

    def ms(self, p: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class CaseRun:
    cases: int
    seconds: float
    referral_to_alert: Latencies
    grant_to_alert: Latencies


async def run_cases(client: Client, console: Console, cases: int, concurrency: int) -> CaseRun:
    """Referral to application to grant to alert, `concurrency` cases at a time."""
    people = Synthetic(seed=99)
    inbox = _Inbox(client)
    gate = asyncio.Semaphore(concurrency)
    referral_to_alert: list[float] = []
    grant_to_alert: list[float] = []

    with Progress(console=console) as progress:
        task = progress.add_task(f"cases to alert, {concurrency} in flight", total=cases)

        async def one(number: int) -> None:
            async with gate:
                started = time.perf_counter()
                referral = await refer(client, people, DISTRICTS[number % len(DISTRICTS)])
                application = await accept(client, referral["id"])
                await build_case(client, application["id"])
                await to_court(client, application["id"], date.today())
                granted_at = time.time()
                reference = await court_grants(client, application["id"], date.today())
                received_at = await inbox.alerted(reference)
                referral_to_alert.append(time.perf_counter() - started)
                grant_to_alert.append(received_at - granted_at)
                progress.advance(task)

        began = time.perf_counter()
        poller = asyncio.create_task(inbox.poll())
        every_case: asyncio.Future[Any] = asyncio.gather(*(one(n) for n in range(cases)))
        try:
            await asyncio.wait([every_case, poller], return_when=asyncio.FIRST_COMPLETED)
            if poller.done():
                every_case.cancel()
                poller.result()  # raises what stopped the inbox from being watched
            await every_case
        finally:
            poller.cancel()
        seconds = time.perf_counter() - began
    return CaseRun(cases, seconds, Latencies(referral_to_alert), Latencies(grant_to_alert))


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
            await asyncio.sleep(POLL_SECONDS)

    def _arrived(self, reference: str, at: str) -> None:
        if reference not in self.received:
            self.received[reference] = datetime.fromisoformat(at).timestamp()
            self.waiting.setdefault(reference, asyncio.Event()).set()


# --- end to end ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """What a run of cases stored, and the database transactions it took."""

    cases: int
    seconds: float
    stored_events: int
    transactions: int


@dataclass(frozen=True)
class EndToEnd:
    run: CaseRun
    civil_orders: Counted
    peer: Counted | None
    polls: int

    def details(self) -> dict[str, float]:
        counted: dict[str, float] = {
            "cases_seconds": self.run.seconds,
            "stored_events": self.civil_orders.stored_events,
            "transactions": self.civil_orders.transactions,
            "polls_not_yet_found": self.polls,
        }
        if self.peer is not None:
            counted |= {
                "peer_seconds": self.peer.seconds,
                "peer_stored_events": self.peer.stored_events,
                "peer_transactions": self.peer.transactions,
            }
        return counted

    def area(self, concurrency: int) -> Area:
        ours, peer = self.civil_orders, self.peer or Counted(0, math.nan, 0, 0)
        how_many = f"{peer.cases} cases one at a time" if self.peer else "not run (--peer 0)"
        area = Area(
            f"end to end: {ours.cases} cases, {concurrency} in flight",
            "the peer: the eventsourcing library's in-process System doing referral → order "
            f"→ alert on the same PostgreSQL, {how_many}, same run",
        )
        area.figures["cases_per_s"] = Figure(
            "cases /s", ours.cases / ours.seconds, "/s", peer.cases / peer.seconds
        )
        area.figures["stored_events_per_s"] = Figure(
            "stored events /s (peer: steps /s)",
            ours.stored_events / ours.seconds,
            "/s",
            peer.stored_events / peer.seconds,
            Target(1, of_ratio=True),
        )
        area.figures["transactions_per_case"] = Figure(
            "transactions per case",
            ours.transactions / ours.cases,
            "",
            peer.transactions / peer.cases if peer.cases else math.nan,
            Target(60, at_most=True),
        )
        return area


async def end_to_end(
    client: Client, database: "Database", console: Console, plan: Plan
) -> EndToEnd:
    """Cases at `plan.concurrency` in flight, counting the events they stored and the database
    transactions they took; then the peer's cases, counted the same way."""
    peer = Peer(client.database_url) if plan.peer else None
    if peer is not None:
        await asyncio.to_thread(peer.start)  # its tables are made before counting begins
    try:
        before = await database.settled_transactions(console)
        marks = await database.event_marks()
        with looked_too_soon(client.http) as polls:
            run = await run_cases(client, console, plan.cases, plan.concurrency)
        stored = await database.stored_since(marks)
        after = await database.settled_transactions(console)
        ours = Counted(run.cases, run.seconds, stored, after - before - polls.count)
        peer_counted = None
        if peer is not None:
            peer_run = await run_peer(peer, plan.peer, console)
            transactions = await database.settled_transactions(console) - after
            peer_counted = Counted(
                peer_run.cases, peer_run.seconds, peer_run.stored_events, transactions
            )
    finally:
        if peer is not None:
            await asyncio.to_thread(peer.stop)
    return EndToEnd(run, ours, peer_counted, polls.count)


async def run_peer(peer: Peer, cases: int, console: Console) -> PeerRun:
    with Progress(console=console) as progress:
        task = progress.add_task("the peer's cases, one at a time", total=cases)
        return await asyncio.to_thread(peer.run, cases, lambda: progress.advance(task))


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


# --- latency -------------------------------------------------------------------------------


def latency_area(raw: Latencies, single: CaseRun | None, many: CaseRun, concurrency: int) -> Area:
    area = LatencyArea(
        "latency",
        "a raw broker round trip (produce one message, then consume it), same percentile, same run",
        baseline_label="raw broker round trip",
    )
    targets = {("grant_to_alert", "1", 50): 25, ("grant_to_alert", "1", 99): 100}
    if concurrency == ISSUE_CONCURRENCY:
        targets[("grant_to_alert", "n", 99)] = 250
    runs = [("n", concurrency, many)] + ([("1", 1, single)] if single else [])
    for measure, label in (
        ("grant_to_alert", "granted → alert"),
        ("referral_to_alert", "referral → alert"),
    ):
        for key, in_flight, run in runs:
            latencies: Latencies = getattr(run, measure)
            figures = {}
            for p in PERCENTILES:
                bound = targets.get((measure, key, p))
                target = Target(bound, at_most=True) if bound else None
                figures[p] = Figure(label, latencies.ms(p), "ms", raw.ms(p), target)
            area.add_row(f"{measure}_{key}_in_flight", f"{label}, {in_flight} in flight", figures)
    return area


async def broker_round_trip(client: Client, count: int) -> Latencies:
    """Publish and consume `count` small messages one at a time, on the same broker."""
    await ensure_topic(client.bootstrap_servers, ROUND_TRIP_TOPIC, 1)
    consumer = AIOKafkaConsumer(
        ROUND_TRIP_TOPIC, bootstrap_servers=client.bootstrap_servers, auto_offset_reset="latest"
    )
    await consumer.start()
    try:
        await client.publish_raw(ROUND_TRIP_TOPIC, b"warm-up")
        await consumer.getone()
        latencies = []
        for _ in range(count):
            started = time.perf_counter()
            await client.publish_raw(ROUND_TRIP_TOPIC, b"x" * 512)
            await consumer.getone()
            latencies.append(time.perf_counter() - started)
    finally:
        await consumer.stop()
    return Latencies(latencies)


async def ensure_topic(bootstrap_servers: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        if name not in await admin.list_topics():
            await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


# --- bulk intake ---------------------------------------------------------------------------


async def bulk_intake(client: Client, database: "Database", console: Console, count: int) -> Area:
    """`count` district referrals published at once, until the referral service has recorded
    them all; the baseline moves the same messages through a scratch topic and nothing else."""
    people = Synthetic(seed=97)
    referrals = [people.referral(DISTRICTS[n % len(DISTRICTS)]) for n in range(count)]
    messages = [(str(r.aggregate_id).encode(), r.model_dump_json().encode()) for r in referrals]
    raw = await raw_produce_consume(client, messages, topic(REFERRALS).partitions)
    mark = await database.last_event("referral")
    with Progress(console=console) as progress:
        publishing = progress.add_task("publishing referrals", total=count)
        recording = progress.add_task("recording referrals", total=count)
        began = time.perf_counter()
        async for _ in client.publish_all(referrals):
            progress.advance(publishing)
        finished = await until_done(
            lambda: database.referrals_received_since(mark), count, progress, recording
        )
    area = Area(
        f"bulk intake: {count:,} district referrals published at once",
        "a raw produce and consume of the same messages on a scratch topic, same run",
    )
    area.figures["intake_referrals_per_s"] = Figure(
        "referrals recorded /s", count / (finished - began), "/s", raw, Target(2000)
    )
    return area


async def raw_produce_consume(
    client: Client, messages: list[tuple[bytes, bytes]], partitions: int
) -> float:
    """Messages per second from handing them all to the producer to a plain consumer having
    read them all, on a scratch topic with as many partitions."""
    await ensure_topic(client.bootstrap_servers, INTAKE_TOPIC, partitions)
    consumer = AIOKafkaConsumer(bootstrap_servers=client.bootstrap_servers)
    await consumer.start()
    try:
        assigned = [TopicPartition(INTAKE_TOPIC, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for partition in assigned:
            await consumer.position(partition)  # settled now, not once messages arrive

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
        sent = [await client.producer.send(INTAKE_TOPIC, v, key=k) for k, v in messages]
        await asyncio.gather(*sent)
        return len(messages) / (await reading - began)
    finally:
        await consumer.stop()


# --- screening -----------------------------------------------------------------------------


async def screening(client: Client, console: Console, count: int) -> Area:
    """Disposals published at once, until the referral service has screened and committed
    every one; the baseline is a plain consumer reading the same topic."""
    backlog = Synthetic(seed=98).disposals(count, suspects=max(1, count // 4))
    async with committed_offsets(client.bootstrap_servers, SCREENING_GROUP, DISPOSALS) as group:
        with Progress(console=console) as progress:
            publishing = progress.add_task("publishing disposals", total=count)
            screened = progress.add_task("screening disposals", total=count)
            began = time.perf_counter()
            async for _ in client.publish_all(disposal_envelope(d, "bench") for d in backlog):
                progress.advance(publishing)
            ends = await group.end_offsets()

            async def done() -> int:
                return count - await group.behind(ends)

            finished = await until_done(done, count, progress, screened)
    raw = await raw_consume(client, DISPOSALS, count)
    area = Area(
        f"screening: {count:,} disposals published at once",
        "a plain consumer reading the same topic from its start, same run",
    )
    area.figures["screening_disposals_per_s"] = Figure(
        "disposals screened /s", count / (finished - began), "/s", raw, Target(10_000)
    )
    return area


class _GroupOffsets:
    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self.consumer = consumer
        self.partitions = partitions

    async def end_offsets(self) -> dict[TopicPartition, int]:
        return dict(await self.consumer.end_offsets(self.partitions))

    async def behind(self, ends: dict[TopicPartition, int]) -> int:
        """Messages before `ends` the group has not yet committed."""
        committed = [await self.consumer.committed(p) or 0 for p in self.partitions]
        return sum(max(0, ends[p] - c) for p, c in zip(self.partitions, committed, strict=True))


@asynccontextmanager
async def committed_offsets(
    bootstrap_servers: str, group: str, topic_name: str
) -> AsyncIterator[_GroupOffsets]:
    """Reads how far `group` has committed on a topic, without joining the group (the consumer
    never subscribes, so it takes no partitions from the service)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic_name, p) for p in range(topic(topic_name).partitions)]
        yield _GroupOffsets(consumer, partitions)
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


# --- rebuild -------------------------------------------------------------------------------


async def rebuild(
    client: Client, urls: dict[str, str], console: Console, details: dict[str, float]
) -> Area:
    """Each projection rebuilt alone, then every read model in one call, in events of the
    history per second; the baseline reads the same event tables plainly."""
    history, raw_seconds = await raw_event_read(client.database_url)
    details["history_events"] = history
    raw = history / raw_seconds
    area = Area(
        f"rebuilding the read models from {history:,} stored events",
        "a plain read of every service's event table in log order, same run",
    )
    for projection in named([]):
        with console.status(f"rebuilding {projection.name}"):
            seconds = await _timed(
                rebuild_projections(client.database_url, urls, (projection,), Console(quiet=True))
            )
        area.figures[f"rebuild_{projection.name}_events_per_s"] = Figure(
            f"{projection.name} alone", history / seconds, "/s", raw
        )
    seconds = await _timed(rebuild_projections(client.database_url, urls, named([]), console))
    area.figures["rebuild_all_events_per_s"] = Figure(
        "every read model, one call",
        history / seconds,
        "/s",
        raw,
        Target(0.3, of_ratio=True),
    )
    return area


async def _timed(work: Awaitable[object]) -> float:
    began = time.perf_counter()
    await work
    return time.perf_counter() - began


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


# --- the stack and its database ------------------------------------------------------------


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

    async def referrals_received_since(self, mark: int) -> int:
        table = f"referral.{events_table('referral')}"
        return int(
            await self._value(
                f"SELECT count(*) FROM {table} WHERE notification_id > $1 AND topic = $2",
                mark,
                self.RECEIVED,
            )
        )


async def until_done(
    done: Callable[[], Awaitable[int]], total: int, progress: Progress, task: TaskID
) -> float:
    """Polls `done` until it reaches `total`, and returns when it did (perf_counter); gives up
    when it has not moved for STALL_SECONDS."""
    last, moved_at = -1, time.perf_counter()
    while True:
        count = await done()
        now = time.perf_counter()
        progress.update(task, completed=min(count, total))
        if count >= total:
            return now
        if count != last:
            last, moved_at = count, now
        elif now - moved_at > STALL_SECONDS:
            raise TimeoutError(f"stuck at {count} of {total} for {STALL_SECONDS} s")
        await asyncio.sleep(POLL_SECONDS)


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
