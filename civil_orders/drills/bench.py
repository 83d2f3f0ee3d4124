"""The benchmark: issue 12's figures, each beside a baseline measured in the same run.

Areas, in the order they run (the stack is let catch up between them, so that no area pays
for work an earlier one left behind):
- end to end: cases driven many at once (a caseworker with no backlog issues each command as
  soon as the previous step shows), with their stored events per second and database
  transactions per case, beside the eventsourcing library's own in-process System doing
  referral → order → alert on the same PostgreSQL (`civil_orders/drills/peer.py`);
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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import Progress

from civil_orders.drills.bench_cores import CoreMeter
from civil_orders.drills.bench_figures import PERCENTILES, Area, Figure, LatencyArea, Report, Target
from civil_orders.drills.bench_probes import (
    Database,
    Latencies,
    broker_round_trip,
    caught_up,
    looked_too_soon,
    raw_consume,
    raw_event_read,
    raw_produce_consume,
)
from civil_orders.drills.demo import accept, build_case, court_grants, refer, to_court
from civil_orders.drills.peer import Peer, PeerRun
from civil_orders.drills.synthetic import DISTRICTS, Synthetic
from civil_orders.operations.projections import named, rebuild_projections
from civil_orders.operations.scan import DISPOSALS, Backlog, scan
from civil_orders.stack.client import Client, until_done
from schemas import dates
from schemas.topics import topic

REFERRALS = "district.referrals.v1"
ROUND_TRIPS = 500
INBOX_WAIT_SECONDS = 5.0  # how long each look at a team inbox waits for an arrival
ISSUE_CONCURRENCY = 16  # the cases in flight issue 12's many-in-flight target is stated for


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
            "started_at": dates.now().isoformat(timespec="seconds"),
        }


async def run_bench(
    client: Client, urls: dict[str, str], console: Console, plan: Plan, roots: tuple[int, ...]
) -> Report:
    """Measure every area the plan asks for, printing each area's table as it is done, with
    the cores each process of the stack (`roots` and what descends from them) used meanwhile."""
    database = await Database.connect(client.database_url)
    report = Report(plan.parameters() | {"postgres_version": await database.version()})

    def done(area: Area) -> None:
        report.areas.append(area)
        console.print(area.table())

    try:
        raw = await broker_round_trip(client, ROUND_TRIPS)
        await caught_up(client, console)
        measured = await end_to_end(client, database, console, plan, roots)
        report.details |= measured.details()
        done(measured.area(plan.concurrency))
        single = None
        if plan.single:
            await caught_up(client, console)
            single = await run_cases(client, console, plan.single, 1)
        done(latency_area(raw, single, measured.run, plan.concurrency))
        if plan.bulk:
            await caught_up(client, console)
            done(await bulk_intake(client, database, console, plan.bulk, roots))
        if plan.disposals:
            await caught_up(client, console)
            done(await screening(client, console, plan.disposals, roots))
        if plan.rebuild:
            await caught_up(client, console)
            done(await rebuild(client, urls, console, report.details, roots))
    finally:
        await database.close()
    return report


# --- cases ---------------------------------------------------------------------------------


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
                await to_court(client, application["id"], dates.today())
                granted_at = dates.now().timestamp()  # as the team inbox times arrivals
                reference = await court_grants(client, application["id"], dates.today())
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
        """Long-polls every inbox at once, each for what arrived since its last look, so the
        watching costs a request per arrival, however many alerts the run has sent."""
        await asyncio.gather(
            *(
                self._watch(team, self.client.team_alerts, self._alerted)
                for team in self.WEBHOOK_TEAMS
            ),
            self._watch(self.MAILBOX, self.client.mail, self._mailed),
        )

    async def _watch(
        self,
        inbox: str,
        read: Callable[..., Awaitable[list[dict[str, Any]]]],
        arrived: Callable[[dict[str, Any]], None],
    ) -> None:
        seen = 0  # the last position read
        while True:
            for received in await read(inbox, seen, wait=INBOX_WAIT_SECONDS):
                arrived(received)
                seen = received["position"]

    def _alerted(self, received: dict[str, Any]) -> None:
        self._arrived(received["alert"]["order_reference"], received["received_at"])

    def _mailed(self, email: dict[str, Any]) -> None:
        self._arrived(email["body"].split("Order reference: ")[1].split()[0], email["received_at"])

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
    cores: dict[str, float]

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
            name="cases",
            cores=self.cores,
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
    client: Client, database: Database, console: Console, plan: Plan, roots: tuple[int, ...]
) -> EndToEnd:
    """Cases at `plan.concurrency` in flight, counting the events they stored and the database
    transactions they took; then the peer's cases, counted the same way."""
    peer = Peer(client.database_url) if plan.peer else None
    if peer is not None:
        await asyncio.to_thread(peer.start)  # its tables are made before counting begins
    try:
        before = await database.settled_transactions(console)
        marks = await database.event_marks()
        with looked_too_soon(client.http) as polls, CoreMeter(*roots) as cores:
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
    return EndToEnd(run, ours, peer_counted, polls.count, cores.cores)


async def run_peer(peer: Peer, cases: int, console: Console) -> PeerRun:
    with Progress(console=console) as progress:
        task = progress.add_task("the peer's cases, one at a time", total=cases)
        return await asyncio.to_thread(peer.run, cases, lambda: progress.advance(task))


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


# --- bulk intake ---------------------------------------------------------------------------


async def bulk_intake(
    client: Client, database: Database, console: Console, count: int, roots: tuple[int, ...]
) -> Area:
    """`count` district referrals published at once, until the referral service has recorded
    them all; the baseline moves the same messages through a scratch topic and nothing else."""
    people = Synthetic(seed=97)
    referrals = [people.referral(DISTRICTS[n % len(DISTRICTS)]) for n in range(count)]
    messages = [(str(r.aggregate_id).encode(), r.model_dump_json().encode()) for r in referrals]
    raw = await raw_produce_consume(client, messages, topic(REFERRALS).partitions)
    mark = await database.last_event("referral")
    with Progress(console=console) as progress, CoreMeter(*roots) as cores:
        publishing = progress.add_task("publishing referrals", total=count)
        recording = progress.add_task("recording referrals", total=count)
        began = time.perf_counter()
        async for published in client.publish_all(referrals):
            progress.advance(publishing, published)
        received = database.referrals_received_since(mark)
        finished = await until_done(received, count, progress, recording)
    area = Area(
        f"bulk intake: {count:,} district referrals published at once",
        "a raw produce and consume of the same messages on a scratch topic, same run",
        name="intake",
        cores=cores.cores,
    )
    area.figures["intake_referrals_per_s"] = Figure(
        "referrals recorded /s", count / (finished - began), "/s", raw, Target(2000)
    )
    return area


# --- screening -----------------------------------------------------------------------------


async def screening(client: Client, console: Console, count: int, roots: tuple[int, ...]) -> Area:
    """A backlog scanned as `civil-orders scan` does (published at once, then waited for until
    the referral service has screened and committed every disposal); the baseline is a plain
    consumer reading the same topic."""
    backlog = Backlog(Synthetic(seed=98).disposals(count, suspects=max(1, count // 4)), [])
    with CoreMeter(*roots) as cores:
        seconds = await _timed(scan(client, backlog, "bench", console))
    raw = await raw_consume(client, DISPOSALS, count)
    area = Area(
        f"screening: {count:,} disposals published at once",
        "a plain consumer reading the same topic from its start, same run",
        name="screening",
        cores=cores.cores,
    )
    area.figures["screening_disposals_per_s"] = Figure(
        "disposals screened /s", count / seconds, "/s", raw, Target(10_000)
    )
    return area


# --- rebuild -------------------------------------------------------------------------------


async def rebuild(
    client: Client,
    urls: dict[str, str],
    console: Console,
    details: dict[str, float],
    roots: tuple[int, ...],
) -> Area:
    """Each projection rebuilt alone, then every read model in one call, in events of the
    history per second; the baseline reads the same event tables plainly."""
    history, raw_seconds = await raw_event_read(client.database_url)
    details["history_events"] = history
    raw = history / raw_seconds
    area = Area(
        f"rebuilding the read models from {history:,} stored events",
        "a plain read of every service's event table in log order, same run",
        name="rebuild",
    )
    for projection in named([]):
        with console.status(f"rebuilding {projection.name}"):
            seconds = await _timed(
                rebuild_projections(client.database_url, urls, (projection,), Console(quiet=True))
            )
        area.figures[f"rebuild_{projection.name}_events_per_s"] = Figure(
            f"{projection.name} alone", history / seconds, "/s", raw
        )
    with CoreMeter(*roots) as cores:  # the bench's own process is the rebuilding one
        seconds = await _timed(rebuild_projections(client.database_url, urls, named([]), console))
    area.cores = cores.cores
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
