"""The fault-injection soak: cases driven through the whole path while, at random moments,
a service or the broker is killed (SIGKILL; the embedded broker comes back empty, so its
data is dropped with it) or PostgreSQL crashes (an immediate shutdown: crash recovery on
restart). The supervisor brings each back, as under `civil-orders up`.

The driver behaves as the outside world does: district systems send a referral or breach
report again until the force's services show it recorded (the same message: copies are
dropped), and staff retry a command that got no answer. At the end the stores are checked
against each other and against what was sent.
"""

import asyncio
import os
import random
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import httpx
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from civil_orders.drills.demo import (
    CASEWORKER,
    Command,
    building,
    granting,
    to_court_commands,
)
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import BROKER, POSTGRES, Stack
from schemas import dates
from schemas.envelope import Envelope
from services.breach.domain import Breach

T = TypeVar("T")
DISTRICT_TEAMS = {"north": "mosovo-north", "east": "mosovo-east"}
KILLABLE = ("referral", "application", "breach", "notification", "readmodels", "web")
RESEND_SECONDS = 10.0
GIVE_UP_SECONDS = 180.0
INBOX_PAGE = 500


class Unanswered(Exception):
    """The stack did not answer within GIVE_UP_SECONDS, retries and all."""


@dataclass
class Ledger:
    """What the driver sent, and what it saw of it."""

    referrals: list[tuple[str, str]] = field(default_factory=list)  # (district, reference)
    breaches: list[tuple[str, str]] = field(default_factory=list)  # (order, report reference)
    granted: dict[str, str] = field(default_factory=dict)  # order reference: district
    gave_up: Counter[str] = field(default_factory=Counter)


@dataclass
class Invariant:
    name: str
    holds: bool
    detail: str


@dataclass
class SoakResult:
    faults: Counter[str]
    cases: int
    lost: int
    duplicated: int
    redelivered: int
    abandoned: Counter[str]  # cases given up on, by the step that never completed
    invariants: list[Invariant]

    @property
    def passed(self) -> bool:
        healthy = all(i.holds for i in self.invariants) and not self.abandoned
        return healthy and self.lost == 0 and self.duplicated == 0


def _transient(error: Exception) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500
    return isinstance(error, httpx.HTTPError | KafkaError | OSError | TimeoutError)


async def persist(attempt: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `attempt` until it succeeds, through transient failures (no answer, a 5xx, the
    broker away). A 409 says it is done already: an earlier attempt reached the service, or
    this one did twice (a database that crashed as it committed loses the acknowledgement of
    a commit that stood, and the service, trying again, finds it applied)."""
    deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
    delay = 0.2
    while True:
        try:
            return await attempt()
        except httpx.HTTPStatusError as error:
            if error.response.status_code == 409:
                raise AlreadyDone from error
            if not _transient(error):
                raise
        except Exception as error:
            if not _transient(error):
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise Unanswered(what)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


class AlreadyDone(Exception):
    """A command was refused as done already; what the case needs next is checked from its
    state (the order's reference from the application, say), so a refusal for any other
    reason shows there as a step that never completes."""


async def send(client: Client, command: Command) -> Any:
    try:
        return await persist(lambda: command.send(client), command.path)
    except AlreadyDone:
        return None


async def until_shown(client: Client, service: str, path: str) -> dict[str, Any]:
    """What `path` answers once it is there (the event has reached that service)."""

    async def look() -> dict[str, Any]:
        response = await client.get(service, path)
        response.raise_for_status()
        return dict(response.json())

    deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        try:
            return await persist(look, path)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 404:
                raise
        await asyncio.sleep(0.2)
    raise Unanswered(f"{service}{path} never shown")


async def deliver(client: Client, message: Envelope, shown: Callable[[], Awaitable[bool]]) -> None:
    """Publish as a district system does: again, every RESEND_SECONDS, until the force's
    services show it recorded (a broker that lost its data lost the message with it)."""
    deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        try:
            await asyncio.wait_for(client.publish(message), RESEND_SECONDS)
        except (KafkaError, TimeoutError, OSError):
            await asyncio.sleep(1)
            continue
        resend_at = asyncio.get_running_loop().time() + RESEND_SECONDS
        while asyncio.get_running_loop().time() < resend_at:
            try:
                if await shown():
                    return
            except (httpx.HTTPError, OSError):
                pass
            await asyncio.sleep(0.25)
    raise Unanswered(f"{message.event_type} {message.event_id}")


async def drive_case(client: Client, people: Synthetic, ledger: Ledger, breach: bool) -> None:
    """A referral through to a granted order; with `breach`, a breach of it reported."""
    district = people.random.choice(list(DISTRICT_TEAMS))
    referral = people.referral(district)
    reference = referral.payload.district_reference
    ledger.referrals.append((district, reference))
    by_reference = f"/referrals/by-reference/{district}/{reference}"

    async def referral_recorded() -> bool:
        return (await client.get("referral", by_reference)).status_code == 200

    await deliver(client, referral, referral_recorded)
    referral_id = (await until_shown(client, "referral", by_reference))["id"]
    for step in ("review", "accept"):
        await send(client, Command("referral", f"/referrals/{referral_id}/{step}", CASEWORKER))
    application = await until_shown(
        client, "application", f"/applications/by-referral/{referral_id}"
    )
    made_on = dates.today()
    *casework, grant = [
        *building(application["id"]),
        *to_court_commands(application["id"], made_on),
        granting(application["id"], made_on),
    ]
    for command in casework:
        await send(client, command)
    order_reference = await _granted(client, application["id"], await send(client, grant))
    ledger.granted[order_reference] = district
    if not breach:
        return
    known = f"/orders/{order_reference}"
    deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
    while (await until_shown(client, "breach", known)).get("team") is None:
        if asyncio.get_running_loop().time() > deadline:
            raise Unanswered(f"the breach service never knew {order_reference}'s team")
        await asyncio.sleep(0.25)
    report = people.breach(district, order_reference)
    ledger.breaches.append((order_reference, report.payload.report_reference))
    breach_path = f"/breaches/{Breach.create_id(district, report.payload.report_reference)}"

    async def breach_recorded() -> bool:
        return (await client.get("breach", breach_path)).status_code == 200

    await deliver(client, report, breach_recorded)


async def _granted(client: Client, application_id: str, answer: Any) -> str:
    """The order's reference: from the grant's answer, or (a retried grant refused as done)
    from the order the application records."""
    if answer is not None:
        return str(answer["order_reference"])
    application = await until_shown(client, "application", f"/applications/{application_id}")
    order = await until_shown(client, "application", f"/orders/{application['order_id']}")
    return str(order["reference"])


class Injector:
    """Picks a fault at random, among what is up at that moment, and injects it."""

    def __init__(self, stack: Stack, rng: random.Random, say: Callable[[str], None]) -> None:
        self.stack = stack
        self.rng = rng
        self.say = say
        self.faults: Counter[str] = Counter()

    def inject(self) -> None:
        up = [name for name, code in self.stack.children().items() if code is None]
        choices = [n for n in KILLABLE if n in up]
        if BROKER in up:
            choices += [BROKER] * 2
        if POSTGRES in up:
            choices += [POSTGRES] * 2
        if not choices:
            return
        victim = self.rng.choice(choices)
        if victim == POSTGRES:
            assert self.stack.postgres is not None
            pid = self.stack.postgres.get_postmaster_info().pid
            if pid is None:
                return
            try:
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown, as in a crash
            except ProcessLookupError:  # its pid file outlived it: it is restarting, not up
                return
            fault = "PostgreSQL crashed"
        elif victim == BROKER:
            assert self.stack.broker_process is not None
            self.stack.broker_process.kill()
            fault = "broker killed, its data dropped"
        else:
            self.stack.processes[victim].kill()
            fault = f"{victim} killed"
        self.faults[fault] += 1
        self.say(f"fault: {fault}")


async def soak(
    stack: Stack,
    client: Client,
    minutes: float,
    seed: int,
    every: tuple[float, float],
    concurrency: int,
    console: Console,
    supervised: Callable[[], bool] = lambda: True,
) -> SoakResult:
    """Drives cases and injects faults for `minutes` (or until the stack is no longer
    `supervised`: its supervisor gave up), then checks."""
    rng = random.Random(seed)
    people = Synthetic(seed=seed)
    ledger = Ledger()
    injector = Injector(stack, rng, lambda said: console.print(f"[yellow]{said}"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + minutes * 60

    def going() -> bool:
        return loop.time() < deadline and supervised()

    async def faults() -> None:
        while going():
            await asyncio.sleep(rng.uniform(*every))
            if going():
                injector.inject()

    async def worker() -> None:
        while going():
            try:
                await drive_case(client, people, ledger, breach=rng.random() < 0.4)
            except Unanswered as stuck:
                ledger.gave_up[str(stuck)] += 1
                console.print(f"[red]gave up on a step: {stuck}")

    await asyncio.gather(faults(), *(worker() for _ in range(concurrency)))
    console.print("Faults stopped; waiting for the pipeline to settle...")
    return await check(client, stack, ledger, injector.faults, console)


async def check(
    client: Client, stack: Stack, ledger: Ledger, faults: Counter[str], console: Console
) -> SoakResult:
    """Waits (up to GIVE_UP_SECONDS) until every alert due has arrived and the read models
    have caught up, then checks."""
    from civil_orders.operations.projections import named, verify_projections
    from plumbing.chain import verify

    loop = asyncio.get_running_loop()
    deadline = loop.time() + GIVE_UP_SECONDS
    while True:
        orders = await persist(lambda: client.every("readmodels", "/orders"), "/orders")
        received = await _received(client)
        due = len(orders) + len(ledger.breaches)
        if sum(1 for _ in received) >= due or loop.time() > deadline:
            break
        await asyncio.sleep(1)

    recorded = 0
    for district, reference in ledger.referrals:
        path = f"/referrals/by-reference/{district}/{reference}"
        recorded += await persist(partial(_status, client, "referral", path), path) == 200
    allocation = Counter(a["order_reference"] for a in received if a["kind"] == "order allocated")
    breach_alerts = Counter(a["order_reference"] for a in received if "breach" in a["kind"])
    wrong_team = [
        a
        for a in received
        if a["order_reference"] in ledger.granted
        and a["team"] != DISTRICT_TEAMS[ledger.granted[a["order_reference"]]]
    ]
    breaches_by_order = Counter(order for order, _ in ledger.breaches)
    order_refs = {o["order_reference"] for o in orders}
    lost = (len(ledger.referrals) - recorded) + sum(1 for ref in order_refs if allocation[ref] == 0)
    lost += sum(max(0, n - breach_alerts[ref]) for ref, n in breaches_by_order.items())
    duplicated = sum(max(0, n - 1) for n in allocation.values())
    duplicated += sum(max(0, breach_alerts[ref] - n) for ref, n in breaches_by_order.items())
    dead_letters = await client.dead_letters()
    # the read models may still be taking the history a new cluster was sent
    while differences := await verify_projections(
        stack.database_url, stack.urls(), named([]), console
    ):
        if loop.time() > deadline:
            break
        await asyncio.sleep(2)
    chains = verify(stack.database_url)
    invariants = [
        Invariant(
            "referrals sent = referrals recorded",
            recorded == len(ledger.referrals),
            f"{len(ledger.referrals)} sent, {recorded} recorded",
        ),
        Invariant(
            "every granted order: exactly one allocation alert, to the right team",
            all(allocation[r] == 1 for r in order_refs) and not wrong_team,
            f"{len(order_refs)} orders; {sum(allocation.values())} allocation alerts; "
            f"{len(wrong_team)} to a wrong team",
        ),
        Invariant(
            "every breach: exactly one alert",
            all(breach_alerts[r] == n for r, n in breaches_by_order.items()),
            f"{len(ledger.breaches)} breaches; {sum(breach_alerts.values())} breach alerts",
        ),
        Invariant("no dead letters", not dead_letters, f"{len(dead_letters)} dead letters"),
        Invariant(
            "read models equal a replay",
            not differences,
            "; ".join(f"{d.projection}.{d.table}" for d in differences) or "all equal",
        ),
        Invariant(
            "hash chains intact",
            all(c.intact for c in chains),
            "; ".join(c.describe() for c in chains if not c.intact) or "all intact",
        ),
    ]
    redelivered = sum(a["copies"] - 1 for a in received)
    return SoakResult(
        faults, len(ledger.granted), lost, duplicated, redelivered, ledger.gave_up, invariants
    )


async def _status(client: Client, service: str, path: str) -> int:
    """What `path` answers: 200 or 404 (a 5xx or no answer, from a service restarting, is
    raised, for `persist` to ask again)."""
    response = await client.get(service, path)
    if response.status_code >= 500:
        response.raise_for_status()
    return response.status_code


async def _received(client: Client) -> list[dict[str, Any]]:
    """Every alert the teams' webhooks received, each with its team and copy count."""
    received = []
    for team in DISTRICT_TEAMS.values():
        after = 0
        while page := await persist(partial(client.team_alerts, team, after, INBOX_PAGE), team):
            after = page[-1]["position"]
            received += [{**e["alert"], "team": team, "copies": e["copies"]} for e in page]
    return received


def print_result(result: SoakResult, console: Console) -> None:
    table = Table(title="Soak: invariants")
    for column in ("invariant", "holds", "detail"):
        table.add_column(column, overflow="fold")
    for invariant in result.invariants:
        holds = "[green]yes[/]" if invariant.holds else "[red]NO[/]"
        table.add_row(invariant.name, holds, invariant.detail)
    console.print(table)
    faults = ", ".join(f"{n} × {kind}" for kind, n in result.faults.most_common()) or "none"
    console.print(f"faults injected: {sum(result.faults.values())} ({faults})")
    console.print(
        f"cases granted: {result.cases}; lost: {result.lost}; duplicated: {result.duplicated}; "
        f"webhooks redelivered with the same key: {result.redelivered}"
    )
    for step, count in result.abandoned.most_common():
        console.print(f"[red]abandoned {count} case(s): {step}")
