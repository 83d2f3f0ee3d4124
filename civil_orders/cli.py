"""The civil-orders command line."""

import asyncio
import importlib
import inspect
import json
import logging
import os
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from plumbing.settings import SERVICE_PORTS
from schemas import dates

if TYPE_CHECKING:
    from civil_orders.drills.bench_figures import Report
    from civil_orders.drills.soak import SoakResult
    from civil_orders.stack.client import Client
    from plumbing.readmodel import Projection
    from services.readmodels.evaluation import Evaluation

app = typer.Typer(
    help=(
        "civil-orders: casework for Sexual Risk Orders (SROs) and Sexual Harm Prevention "
        "Orders (SHPOs).\n\n"
        "District referrals become court applications; granted orders are allocated to the "
        "district MOSOVO team, which is alerted, and alerted again on every breach. Every step "
        "is an event in PostgreSQL that auditors can replay; Kafka carries events between the "
        "services.\n\n"
        "Start with [bold]civil-orders demo[/] (everything embedded, nothing to install), or "
        "[bold]civil-orders up[/] to keep the stack running and work in the browser at the "
        "address it prints, signed in as any of the synthetic force's staff."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
schemas_app = typer.Typer(
    help="The event contracts: JSON Schema and AsyncAPI.", no_args_is_help=True
)
topics_app = typer.Typer(
    help="The Kafka topics, declared in schemas/topics.py.", no_args_is_help=True
)
dlq_app = typer.Typer(
    help="Messages consumers could not take: list and re-drive them.", no_args_is_help=True
)
app.add_typer(schemas_app, name="schemas")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
audit_app = typer.Typer(
    help="What happened to a case, and what the system knew when.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
verify_app = typer.Typer(
    help="Check the event history: hash chains, and read models against a replay.",
    no_args_is_help=True,
)
app.add_typer(verify_app, name="verify")
projections_app = typer.Typer(
    help="The read models: caseload, order register, breach register, alerts, audit trail.",
    no_args_is_help=True,
)
app.add_typer(projections_app, name="projections")
keys_app = typer.Typer(
    help="People's keys: personal data is sealed with them, erased by destroying them.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
migrate_app = typer.Typer(
    help="Upgrades of what is stored, run with the stack stopped.", no_args_is_help=True
)
app.add_typer(migrate_app, name="migrate")
console = Console()

DataDir = Annotated[
    Path,
    typer.Option(
        envvar="CIVIL_ORDERS_DATA", help="Folder for the embedded servers' data and service logs."
    ),
]
DEFAULT_DATA = Path(".civil-orders")
KEEP_ALIVE_SECONDS = 75


@app.command()
def up(data_dir: DataDir = DEFAULT_DATA) -> None:
    """Start PostgreSQL, Kafka, every service, the web app and the team inbox, and keep them
    up: whatever dies is restarted (see supervisor.log). Ctrl-C stops everything.

    DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS, when set, replace the embedded servers.
    """
    from civil_orders.stack.embedded import StackError, running_stack
    from civil_orders.stack.supervisor import supervised

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C raises KeyboardInterrupt, even where `up` was started with SIGINT ignored (as a
    # shell without job control starts a command run in the background, and its children
    # inherit it): Python then leaves SIGINT ignored, and Ctrl-C did nothing at all.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with console.status("Starting PostgreSQL, Kafka and the services..."):
            context = running_stack(data_dir)
            stack = context.__enter__()
    except StackError as error:
        console.print(f"[red]Could not start the stack:[/] {error}")
        raise typer.Exit(1) from None
    try:
        with supervised(stack, lambda said: console.print(f"[yellow]{said}")) as supervisor:
            _print_stack(stack)
            stack.describe()
            console.print("Running. [bold]Ctrl-C[/] stops everything.")
            while not stopping and supervisor.running():
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, stop)  # a second Ctrl-C does not cut the stop short
        with console.status("Stopping..."):
            context.__exit__(None, None, None)
        console.print("Stopped.")
    if supervisor.gave_up:
        console.print(f"[red]Stopped the stack:[/] {supervisor.gave_up}")
        raise typer.Exit(1)


def _print_stack(stack: object) -> None:
    from rich.panel import Panel

    from civil_orders.stack.embedded import Stack

    assert isinstance(stack, Stack)
    table = Table(title="civil-orders stack", show_lines=False)
    table.add_column("component")
    table.add_column("where")
    table.add_row("PostgreSQL", stack.database_url)
    table.add_row("Kafka", stack.bootstrap_servers)
    for name in stack.ports:
        style = "bold green" if name == "web" else None
        table.add_row(name, f"{stack.url(name)}  (API docs: {stack.url(name)}/docs)", style=style)
    table.add_row("logs", str(stack.data_dir))
    console.print(table)
    console.print(
        Panel(
            f"[bold]Open [link={stack.url('web')}]{stack.url('web')}[/link] and sign in[/]\n"
            "as any of the synthetic force's staff, stating the purpose of your session.",
            title="The web interface",
            border_style="green",
            expand=False,
        )
    )


@app.command()
def demo(data_dir: DataDir = DEFAULT_DATA) -> None:
    """Run the thin path with synthetic people: referral, application, order, alerts, breach.

    Uses the stack `civil-orders up` is running, or starts (and afterwards stops) its own.
    """
    from civil_orders.drills.demo import run_demo
    from civil_orders.stack.client import Client
    from civil_orders.stack.embedded import attached_or_running_stack

    with attached_or_running_stack(data_dir, console) as stack:

        async def go() -> None:
            async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
                await run_demo(client, console)

        asyncio.run(go())
    console.print("[bold green]Demo complete.[/]")
    console.print(
        "To work as the synthetic staff in the browser: [bold]civil-orders up[/], then open the "
        "address it prints. [bold]civil-orders seed --years 3[/] gives it a history."
    )


BENCH_HELP = (
    "Measure throughput and latency, each beside a raw baseline from the same run.\n\n"
    "Prints one table per area: each figure, its baseline, their ratio (value over baseline) "
    "and the target issue 12 sets, green when met. Between areas the bench waits until the "
    "stack has caught up (every service's lag gauges at zero).\n\n"
    "[bold]End to end[/]: --referrals cases, --concurrency at a time, from a district referral "
    "to the team's alert, each command issued as soon as the previous step shows. Cases per "
    "second; stored events per second (new rows in every service's event table); database "
    "transactions per case (pg_stat_database, read once PostgreSQL has flushed every "
    "backend's statistics, less the bench's own reads that found a step not there yet; the "
    "stack's idle work, well under one a second, is in it). Baseline: [italic]the peer[/], the "
    "eventsourcing library's own System doing referral → order → alert with "
    "SingleThreadedRunner on the same PostgreSQL (--peer cases, one at a time), counted the "
    "same way: its cases and steps (stored events) per second, its transactions per case.\n\n"
    "[bold]Latency[/]: order granted → alert (from legal services recording the grant to the "
    "team's webhook receiving the alert) and referral → alert, p50, p95 and p99, with "
    "--concurrency cases in flight and with one (--single cases). Baseline: a raw broker "
    "round trip, one message produced then consumed, same percentile, on a new topic "
    "(each baseline's scratch topic is deleted after it).\n\n"
    "[bold]Bulk intake[/]: --bulk district referrals published at once, until the referral "
    "service has recorded them all (Referral.Received rows in its event table). Baseline: "
    "the same messages produced and consumed on a scratch topic with as many partitions.\n\n"
    "[bold]Screening[/]: --disposals disposals published at once, until the referral "
    "service's consumer group has committed every one (each one screened). Baseline: a plain "
    "consumer reading the same topic.\n\n"
    "[bold]Rebuild[/]: each read model rebuilt alone, then all of them in one call, in stored "
    "events of the history per second. Baseline: a plain read of every service's event "
    "table.\n\n"
    "Under the cases (many in flight), the intake, the screening and the rebuild of every "
    "read model: the cores each process used meanwhile (CPU seconds over the area's seconds; "
    "a process's ended children count to it, so PostgreSQL's ended backends count to "
    "PostgreSQL): each service by name, postgres, broker, and bench, this process (the cases' "
    "client; in the rebuild, the rebuilding client). An external database or broker is not "
    "seen.\n\n"
    "[bold]--json PATH[/] writes one object with stable keys. [italic]parameters[/]: cases, "
    "concurrency, single_cases, peer_cases, bulk_referrals, disposals, rebuild, round_trips, "
    "cores, psycopg_impl, postgres_version, started_at. [italic]figures[/], each with value, "
    "unit, baseline, baseline_is, ratio, target ({of: value or ratio, at_most or at_least}) "
    "and meets_target: cases_per_s, stored_events_per_s, transactions_per_case, "
    "{grant,referral}_to_alert_{n,1}_in_flight_p{50,95,99}_ms (n: --concurrency), "
    "intake_referrals_per_s, screening_disposals_per_s, rebuild_<projection>_events_per_s, "
    "rebuild_all_events_per_s. [italic]details[/], the counts behind them: cases_seconds, "
    "stored_events, transactions, polls_not_yet_found, peer_seconds, peer_stored_events, "
    "peer_transactions, history_events. [italic]cores[/]: {cases, intake, screening, "
    "rebuild}: {process: cores}. An area skipped leaves its figures out; a figure "
    "that could not be worked out is null."
)


@app.command(help=BENCH_HELP)
def bench(
    referrals: Annotated[
        int, typer.Option("--referrals", "-n", min=1, help="Cases driven many at a time.")
    ] = 200,
    concurrency: Annotated[int, typer.Option(min=1, help="Cases in flight at once.")] = 16,
    single: Annotated[
        int, typer.Option(min=0, help="Cases driven one at a time, for latency (0: none).")
    ] = 30,
    peer: Annotated[
        int, typer.Option(min=0, help="Cases the peer takes through, one at a time (0: none).")
    ] = 300,
    bulk: Annotated[
        int, typer.Option(min=0, help="District referrals published at once (0: none).")
    ] = 5000,
    disposals: Annotated[
        int, typer.Option(min=0, help="Disposals published at once to screen (0: none).")
    ] = 20_000,
    rebuild: Annotated[
        bool, typer.Option(help="Also rebuild every read model from the history.")
    ] = True,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", dir_okay=False, help="Also write every figure here, as JSON."),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    from civil_orders.drills.bench import Plan, run_bench
    from civil_orders.stack.client import Client
    from civil_orders.stack.embedded import attached_or_running_stack, postmaster_pid

    plan = Plan(referrals, concurrency, single, peer, bulk, disposals, rebuild)
    with attached_or_running_stack(data_dir, console) as stack:

        async def go() -> "Report":
            async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
                # what the stack's processes descend from: whoever started it, and PostgreSQL
                started = stack.supervisor or os.getpid()
                roots = (started, *filter(None, [postmaster_pid(stack.data_dir)]))
                return await run_bench(client, stack.urls(), console, plan, roots)

        report = asyncio.run(go())
    if json_path is not None:
        json_path.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        console.print(f"wrote {json_path}")


@app.command()
def soak(
    minutes: Annotated[float, typer.Option(min=0.1, help="How long to inject faults.")] = 10,
    faults_every: Annotated[
        float, typer.Option(min=1, help="Seconds between faults, on average (at random).")
    ] = 15,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Cases in flight.")] = 4,
    seed: Annotated[int, typer.Option(help="Seeds the faults and the synthetic people.")] = 1,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Drive cases through the whole path on a stack of its own while killing services and
    the broker (its data dropped) and crashing PostgreSQL at random; then check the
    invariants: nothing lost, nothing alerted twice, no dead letters, read models equal a
    replay, hash chains intact. Exits 1 if any fails."""
    from civil_orders.drills.soak import print_result
    from civil_orders.drills.soak import soak as run_soak
    from civil_orders.stack.client import Client
    from civil_orders.stack.embedded import running_stack
    from civil_orders.stack.supervisor import supervised

    folder = data_dir / f"soak-{dates.now():%Y%m%d-%H%M%S}"
    with console.status(f"Starting a stack in {folder}..."):
        context = running_stack(folder, usual_ports=False)
        stack = context.__enter__()

    def say(said: str) -> None:
        console.print(f"[cyan]supervisor: {said}")

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the faults' expected noise
    try:
        with supervised(stack, say) as supervisor:

            async def go() -> "SoakResult":
                async with Client(
                    stack.urls(), stack.bootstrap_servers, stack.database_url
                ) as client:
                    every = (faults_every / 2, faults_every * 1.5)
                    return await run_soak(
                        stack,
                        client,
                        minutes,
                        seed,
                        every,
                        concurrency,
                        console,
                        supervisor.running,
                    )

            result = asyncio.run(go())
    finally:
        with console.status("Stopping the stack..."):
            context.__exit__(None, None, None)
    print_result(result, console)
    console.print(f"restarts by the supervisor: {supervisor.restarts}; logs in {folder}")
    if supervisor.gave_up or not result.passed:
        raise typer.Exit(1)


@app.command()
def scan(
    source: Annotated[
        Path,
        typer.Option(
            "--from", exists=True, dir_okay=False, help="Disposals, as JSON lines or CSV."
        ),
    ],
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Screen a backlog of non-positive disposals for suspects who may still pose a risk.

    Every row is checked first; bad rows are listed by line and left out. Scanning the same
    disposals again raises no new candidates.
    """
    from civil_orders.operations.scan import read_backlog
    from civil_orders.operations.scan import scan as run_scan
    from civil_orders.stack.client import Client
    from civil_orders.stack.embedded import attached_or_running_stack

    backlog = read_backlog(source)
    for error in backlog.errors:  # as written: a field's name may look like markup
        console.print(error, style="red", markup=False, highlight=False, soft_wrap=True)
    with attached_or_running_stack(data_dir, console) as stack:

        async def go() -> dict[str, int]:
            async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
                return await run_scan(client, backlog, source.name, console)

        counts = asyncio.run(go())
    console.print(
        f"Screened {counts['disposals']} disposals: {counts['candidates']} new candidate(s) "
        f"for review (GET /candidates on the referral service; a disposal screened before "
        f"raises none again)."
    )
    if backlog.errors:
        console.print(f"[red]{len(backlog.errors)} row(s) were not scanned; see above.[/]")
        raise typer.Exit(1)


@app.command()
def serve(
    name: Annotated[
        str, typer.Argument(help="referral, application, breach, notification or team-inbox")
    ],
    port: Annotated[int | None, typer.Option(help="HTTP port (default: the service's own)")] = None,
    fd: Annotated[
        int | None,
        typer.Option(help="Serve on this listening socket, bound by the supervisor (`up`)."),
    ] = None,
    smtp_fd: Annotated[
        int | None,
        typer.Option(help="team-inbox: take email on this listening socket, bound by `up`."),
    ] = None,
) -> None:
    """Run one service as its own process (DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS must be set)."""
    import socket

    from pydantic import ValidationError

    from civil_orders.stack import team_inbox
    from civil_orders.stack.embedded import TEAM_INBOX_PORT
    from plumbing.collector import freeze_startup
    from plumbing.eventstore import stamp_events_by
    from plumbing.logs import configure_logging
    from plumbing.runtime import create_app
    from plumbing.settings import Settings

    configure_logging(name)
    try:
        settings = Settings()
    except ValidationError as error:
        console.print(f"[red]Settings are missing or wrong:[/]\n{error}")
        raise typer.Exit(2) from None
    stamp_events_by(settings.current_time)
    if name == "team-inbox":
        smtp_socket = socket.socket(fileno=smtp_fd) if smtp_fd is not None else None
        server, default_port = team_inbox.create_app(settings, smtp_socket), TEAM_INBOX_PORT
    elif name in SERVICE_PORTS:
        definition = importlib.import_module(f"services.{name}.main").definition
        server, default_port = create_app(definition, settings), SERVICE_PORTS[name]
    else:
        raise typer.BadParameter(f"no service named {name!r}", param_hint="NAME")
    config = uvicorn.Config(
        server,
        host=settings.host,
        port=port or default_port,
        log_level="warning",
        log_config=None,  # uvicorn's loggers write JSON lines like every other
        # longer than a client keeps an idle pooled connection (httpx: 5 s), so a server never
        # closes one just as a client sends on it ("server disconnected without a response")
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    sockets = [socket.socket(fileno=fd)] if fd is not None else None
    freeze_startup()
    uvicorn.Server(config).run(sockets=sockets)


@app.command("settings")
def settings_reference(
    markdown: Annotated[bool, typer.Option(help="As a Markdown table.")] = False,
) -> None:
    """Every setting: its environment variable, default, whether it is secret, what it does."""
    from plumbing.settings import Settings
    from services.readmodels.settings import EvaluationSettings

    rows = Settings.reference() + EvaluationSettings.reference()
    if markdown:
        print("| variable | default | secret | meaning |\n|---|---|---|---|")
        for row in rows:
            print(
                f"| `{row['variable']}` | `{row['default']}` | {row['secret']} | {row['meaning']} |"
            )
        return
    table = Table(title="civil-orders settings (environment variables)")
    for column in ("variable", "default", "secret", "meaning"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@app.command("access")
def access_reference() -> None:
    """Who may use each route of the web app, and over which cases: the README's role table,
    made from the web app's access table (services/web/access.py), as Markdown."""
    from plumbing.settings import PACKAGED_CONFIG
    from services.web.access import markdown
    from services.web.auth import load_users

    print(markdown(load_users(PACKAGED_CONFIG / "users.yaml")), end="")


@schemas_app.command("export")
def schemas_export(
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("schemas/generated"),
) -> None:
    """Write a JSON Schema for every event and an AsyncAPI document for every topic."""
    from schemas.export import export

    for path in export(out):
        console.print(f"wrote {path}")


@topics_app.command("apply")
def topics_apply(
    bootstrap_servers: Annotated[
        str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
    ],
    replication_factor: Annotated[int, typer.Option(min=1, help="3 on a real cluster.")] = 1,
) -> None:
    """Create every declared topic that does not exist yet (safe to run again)."""
    from plumbing.topics_admin import apply_topics

    created = asyncio.run(apply_topics(bootstrap_servers, replication_factor))
    console.print(f"created: {', '.join(created)}" if created else "all topics already exist")


@topics_app.command("manifest")
def topics_manifest(
    replication_factor: Annotated[int, typer.Option(min=1)] = 3,
    cluster: Annotated[
        str, typer.Option(help="The Strimzi Kafka cluster's name.")
    ] = "civil-orders",
) -> None:
    """Print the topics as Strimzi KafkaTopic resources (deploy/k8s/kafka-topics.yaml)."""
    import yaml

    from plumbing.topics_admin import strimzi_manifests

    print("# Generated by `civil-orders topics manifest` from schemas/topics.py: do not edit.")
    print(
        yaml.safe_dump_all(strimzi_manifests(replication_factor, cluster), sort_keys=False), end=""
    )


DatabaseUrl = Annotated[str, typer.Option(envvar="DATABASE_URL", help="PostgreSQL URL.")]
StackDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        envvar="DATABASE_URL",
        help="PostgreSQL URL (default: the running embedded stack, or one started for it).",
    ),
]

ProjectionNames = Annotated[
    list[str] | None,
    typer.Argument(help="Which projections (see `projections list`); none: --all."),
]


def _projections(names: list[str] | None, all_: bool) -> tuple["Projection", ...]:
    from civil_orders.operations.projections import named

    if not names and not all_:
        raise typer.BadParameter("name the projections, or say --all", param_hint="NAMES")
    try:
        return named(names or [])
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="NAMES") from None


@verify_app.command("chains")
def verify_chains(database_url: DatabaseUrl) -> None:
    """Recompute each service's hash chain of stored events and report the first break.

    Reads only: a role with USAGE on the service schemas and SELECT on their tables will do.
    Exits 1 when any chain is broken.
    """
    from plumbing.chain import verify

    reports = verify(database_url)
    table = Table(title="Event store hash chains")
    for column in ("service", "events checked", "status"):
        table.add_column(column, overflow="fold")
    for report in reports:
        status = "[green]intact[/]" if report.intact else f"[red]{report.describe()}[/]"
        table.add_row(report.service, str(report.events_checked), status)
    console.print(table)
    if not all(report.intact for report in reports):
        raise typer.Exit(1)


@verify_app.command("readmodels")
def verify_readmodels(
    names: ProjectionNames = None,
    all_: Annotated[bool, typer.Option("--all", help="Every projection.")] = False,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Replay the event history beside each live read model and report every difference.

    The history comes from the services' event stores, through their event feeds. Exits 1 on
    any difference."""
    from civil_orders.operations.projections import verify_projections
    from civil_orders.stack.embedded import attached_or_running_stack

    projections = _projections(names, all_)
    with attached_or_running_stack(data_dir, console) as stack:
        differences = asyncio.run(
            verify_projections(stack.database_url, stack.urls(), projections, console)
        )
    for difference in differences:
        console.print(
            f"[red]{difference.projection}.{difference.table}: {difference.only_live} row(s) "
            f"only in the live model, {difference.only_rebuilt} only in the replay; "
            f"e.g. {difference.example}[/]"
        )
    if differences:
        raise typer.Exit(1)
    console.print(f"[green]{len(projections)} read model(s) match a replay of the history.[/]")


@dlq_app.command("list")
def dlq_list(
    database_url: DatabaseUrl,
    all_: Annotated[bool, typer.Option("--all", help="Include re-driven ones.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, with the payloads.")] = False,
) -> None:
    """List dead letters: where each came from and why it was refused."""
    from plumbing.deadletters import connect_and_list

    letters = asyncio.run(connect_and_list(database_url, include_retried=all_))
    if as_json:
        for letter in letters:
            print(json.dumps(letter.as_json()))
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for column in ("service", "id", "from", "recorded", "retried", "reason"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            letter.service,
            str(letter.id),
            f"{letter.topic}/{letter.partition}/{letter.offset}",
            f"{letter.recorded_at:%Y-%m-%d %H:%M:%S}",
            f"{letter.retried_at:%Y-%m-%d %H:%M:%S}" if letter.retried_at else "",
            letter.reason,
        )
    console.print(table)


@dlq_app.command("retry")
def dlq_retry(
    service: Annotated[str, typer.Argument(help="The service that dead-lettered it.")],
    ids: Annotated[list[int], typer.Argument(help="Dead letter ids, from `dlq list`.")],
    database_url: DatabaseUrl,
    bootstrap_servers: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS")],
) -> None:
    """Re-drive dead letters: publish the original bytes to their topic again.

    Consumers are idempotent, so services that took the message the first time ignore it.
    """
    from plumbing.deadletters import redrive

    for letter_id, outcome in asyncio.run(redrive(database_url, bootstrap_servers, service, ids)):
        console.print(f"{service} #{letter_id}: {outcome}")


@audit_app.command("case")
def audit_case(
    ref: Annotated[
        str,
        typer.Argument(
            help="A referral, application or order id, or an order reference (ORD-2026-…)."
        ),
    ],
    database_url: DatabaseUrl,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Show only what the system knew then: an ISO 8601 time, or a date (the end "
            "of that day, UTC).",
        ),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Also write <ref>.jsonl and <ref>.html here."),
    ] = None,
) -> None:
    """Every event of a case in every service, in time order, with who did it, when and under
    which correlation; then each of its records as it stood."""
    from rich.markup import escape

    from civil_orders.operations.audit import CaseNotFound, consult, parse_as_of
    from civil_orders.operations.audit_report import export as write_export
    from civil_orders.operations.audit_report import show

    try:
        moment = parse_as_of(as_of) if as_of else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--as-of") from None
    try:
        history = consult(database_url, ref, moment)
    except CaseNotFound as error:
        console.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from None
    show(history, console)
    if export:
        for path in write_export(history, export):
            console.print(f"wrote {path}")


@projections_app.command("list")
def projections_list() -> None:
    """The projections, what each holds, and its schema."""
    from civil_orders.operations.projections import named

    table = Table(title="read models (served by the readmodels service)")
    for column in ("name", "schema", "tables", "what it holds"):
        table.add_column(column)
    for projection in named([]):
        table.add_row(
            projection.name,
            projection.schema,
            ", ".join(projection.tables),
            projection.description,
        )
    console.print(table)


@projections_app.command("rebuild")
def projections_rebuild(
    names: ProjectionNames = None,
    all_: Annotated[bool, typer.Option("--all", help="Every projection.")] = False,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Rebuild projections from the start of the event history, beside the live ones, then
    swap them in. The live projections keep serving throughout."""
    from civil_orders.operations.projections import rebuild_projections
    from civil_orders.stack.embedded import attached_or_running_stack

    projections = _projections(names, all_)
    with attached_or_running_stack(data_dir, console) as stack:
        started = time.perf_counter()
        applied = asyncio.run(
            rebuild_projections(stack.database_url, stack.urls(), projections, console)
        )
        seconds = time.perf_counter() - started
    for name, events in applied.items():
        console.print(f"{name}: rebuilt from {events} events and swapped in")
    console.print(f"done in {seconds:.1f} s")


AsUser = Annotated[
    str, typer.Option("--as", help="Who does it: their username (the local issuer signs them in).")
]
Token = Annotated[
    str | None,
    typer.Option(
        envvar="CIVIL_ORDERS_TOKEN",
        help="Their bearer token from the force's identity provider, instead of --as.",
    ),
]


@app.command()
def erase(
    nominal: Annotated[str, typer.Argument(help="The person's nominal id.")],
    reason: Annotated[
        str, typer.Option(help="Why their personal data is disposed of: recorded with it.")
    ],
    as_: AsUser = "mgr-1",
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Erase a person's personal data, through the web app as a manager: the disposal is
    recorded (who, when, why) on the person's record and in the access log, then the key it
    is sealed with is destroyed, so it reads as \\[erased] in every store, topic, read model
    and export, while the history, its hash chains and its figures stay whole. Refused while
    an order against the person is in force."""
    body = {"nominal_id": nominal, "reason": reason}
    erased = as_signed_in(data_dir, "/api/subjects/erase", body, as_, token)
    console.print(f"Erased: the disposal is recorded and key {erased['key_id']} is destroyed.")


@app.command("subject-access")
def subject_access(
    nominal: Annotated[str, typer.Argument(help="The person's nominal id.")],
    out: Annotated[Path, typer.Option(help="Folder to write subject-access.json into.")],
    purpose: Annotated[
        str, typer.Option(help="Why: the request being answered; recorded in the access log.")
    ] = "subject access request",
    withhold: Annotated[
        list[str] | None,
        typer.Option(
            help="SECTION=REASON: a part restricted under the law-enforcement exemptions "
            "(referrals, breaches, alerts, ...) and why; left out, the decision recorded. "
            "Again for each.",
        ),
    ] = None,
    as_: AsUser = "dpo-1",
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Export everything held about a person, opened, with the record of who has looked at
    it (DPA 2018 s.45), through the web app as the data protection officer; the export is
    itself recorded in the access log. A person erased reads as \\[erased]."""
    withheld = [dict(zip(("section", "reason"), w.split("=", 1), strict=False))
                for w in withhold or []]  # fmt: skip
    body = {"nominal_id": nominal, "purpose": purpose, "withheld": withheld}
    exported = as_signed_in(data_dir, "/api/subjects/access", body, as_, token)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "subject-access.json"
    path.write_text(json.dumps(exported, indent=2, ensure_ascii=False) + "\n")
    erased = exported["subject"]["erased"]
    if erased:
        console.print(f"The person was erased on {erased['at']} by {erased['by']}: their "
                      "details read as [erased].", markup=False)  # fmt: skip
    from services.web.subject_access import Section

    counts = ", ".join(f"{len(exported[k])} {k.replace('_', ' ')}" for k in get_args(Section))
    console.print(f"wrote {path}: {counts}")
    for w in exported["withheld"]:
        console.print(f"withheld {w['section']}: {w['reason']}", markup=False)


@app.command()
def outreach(
    district: Annotated[str, typer.Argument(help="The district or BCU the session was for.")],
    held_on: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="The day held.")
    ],
    audience: Annotated[str, typer.Option(help="Who attended.")],
    notes: Annotated[str, typer.Option(help="Anything else worth knowing; no case details.")] = "",
    as_: AsUser = "cw-1",
    token: Token = None,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Record an outreach session ("roadshow") held for a district's staff, through the web
    app as a caseworker or manager; the evaluation sets it beside the district's referrals
    before and after."""
    body = {"district": district, "held_on": f"{held_on:%Y-%m-%d}", "audience": audience,
            "notes": notes}  # fmt: skip
    recorded = as_signed_in(data_dir, "/api/outreach", body, as_, token)
    console.print(f"Recorded outreach session {recorded['session_id']}.")


def as_signed_in(
    data_dir: Path, path: str, body: dict[str, Any], username: str, token: str | None
) -> dict[str, Any]:
    """POST to the web app's API as a person would, signed in (by the local issuer, or with
    their token); a refusal ends the command with its reason on one line, exit code 1."""
    from civil_orders.stack.client import Client
    from civil_orders.stack.embedded import attached_or_running_stack
    from services.web.pages.common import readable

    with attached_or_running_stack(data_dir, console) as stack:

        async def go() -> dict[str, Any]:
            async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
                web = stack.url("web")
                bearer = token or await signed_in(client, web, username)
                headers = {"Authorization": f"Bearer {bearer}"}
                response = await client.http.post(f"{web}{path}", json=body, headers=headers)
                if response.status_code in (404, 409, 422):
                    why = readable(response.json()["detail"])
                    console.print(why, style="red", markup=False, soft_wrap=True)
                    raise typer.Exit(1)
                answered: dict[str, Any] = response.raise_for_status().json()
                return answered

        return asyncio.run(go())


async def signed_in(client: "Client", web: str, username: str) -> str:
    """A token from the local issuer (the embedded stack)."""
    response = await client.http.post(f"{web}/api/token", json={"username": username})
    return str(response.raise_for_status().json()["access_token"])


@keys_app.command("rotate")
def keys_rotate(database_url: DatabaseUrl) -> None:
    """Re-wrap every person's key under the newest master key in PERSONAL_DATA_MASTER_KEYS;
    then the older master keys can be retired."""
    from plumbing.personal import PersonalData
    from plumbing.settings import Settings

    settings = Settings(database_url=database_url, kafka_bootstrap_servers="(not used)")
    keys = PersonalData.from_settings(settings).keys
    count = keys.rotate()
    console.print(f"{count} key(s) re-wrapped under master key {keys.master.current}")


@migrate_app.command("seal")
def migrate_seal(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be sealed; change nothing.")
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="DATABASE_URL",
            help="PostgreSQL URL (default: the embedded one of the data folder, started alone).",
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Seal the personal data a build before sealing stored in plain text: each service's
    store that holds some is written again by replaying its history, sealed, checked against
    the old one and swapped in whole; the old one is dropped. Stores with nothing plain are
    left untouched. Run it with the stack stopped; then rebuild the read models."""
    from civil_orders.operations.migrate import service_stores, stopped_database
    from plumbing.migration import MigrationStopped, seal_stores
    from plumbing.settings import Settings

    try:
        url = stopped_database(database_url, data_dir)
        settings = Settings(database_url=url, kafka_bootstrap_servers="(not used)")
        sealings = seal_stores(settings, service_stores(), dry_run)
    except MigrationStopped as stopped:
        console.print(f"[red]Stopped, that store unchanged: {stopped}[/]")
        raise typer.Exit(1) from None
    for sealing in sealings:
        console.print(f"{sealing.store}: {sealing.describe()}")
    if any(sealing.sealed for sealing in sealings):
        console.print(
            "Next: start the stack (`civil-orders up`) and rebuild the read models from the "
            "sealed history: `civil-orders projections rebuild --all`."
        )


@app.command()
def seed(
    years: Annotated[int, typer.Option(min=1, max=20, help="Years of history to make.")] = 3,
    force_size: Annotated[
        str, typer.Option(help="small (about 12 referrals a year) or large (about 40).")
    ] = "small",
    published: Annotated[
        bool,
        typer.Option(
            help="Instead, the history of the practice's published figures: 34 SROs from "
            "July 2020 to August 2023, 14 breaches of them, 8 by one subject."
        ),
    ] = False,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """Make a plausible multi-year history through the real services, with fictional people:
    for demos, the evaluation report and benchmarks. Business dates (referral, court order,
    breach) are back-dated; recording times are now."""
    from datetime import date

    from civil_orders.drills.seed import (
        REFERRALS_PER_YEAR,
        plan_history,
        plan_outreach,
        plan_published,
        record_outreach,
    )
    from civil_orders.drills.seed import seed as run_seed
    from civil_orders.stack.client import Client
    from civil_orders.stack.embedded import attached_or_running_stack

    if force_size not in REFERRALS_PER_YEAR:
        raise typer.BadParameter("small or large", param_hint="--force-size")
    plans = plan_published() if published else plan_history(years, force_size, dates.today())
    first = min(plan.referred_on for plan in plans)
    sessions = plan_outreach(first, date(2023, 8, 31) if published else dates.today())
    with attached_or_running_stack(data_dir, console) as stack:

        async def go() -> dict[str, int]:
            async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
                await record_outreach(client, sessions)
                return await run_seed(client, plans, console)

        counts = asyncio.run(go())
    console.print(
        f"Seeded {len(plans)} cases: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        + f"; and {len(sessions)} outreach sessions"
    )


@app.command()
def report(
    start: Annotated[
        datetime,
        typer.Option(
            "--from", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="First day of the period."
        ),
    ],
    end: Annotated[
        datetime,
        typer.Option(
            "--to",
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="Last day of the period (included).",
        ),
    ],
    out: Annotated[Path, typer.Option(file_okay=False, help="Folder to write into.")] = Path(
        "reports"
    ),
    database_url: StackDatabaseUrl = None,
    caseworkers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Caseworkers to cost for the whole period (default: those who held a case).",
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="html or pdf: the paper, with its CSV data pack of every figure; csv: the "
            "data pack alone.",
        ),
    ] = "html",
    outreach_months: Annotated[
        int,
        typer.Option(
            min=1, max=24, help="Months before and after each outreach session to compare."
        ),
    ] = 3,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """The evaluation for a period: referrals, conversion, orders obtained, time to order,
    capacity and cost, outreach to districts, breaches and how concentrated they are, live
    orders and renewals due.

    The decision paper: a one-page summary, then each section's charts with their tables.
    Writes evaluation-<from>-<to>.html (or .pdf) and .csv (every figure, one a row).
    """
    from civil_orders.stack.embedded import attached_or_running_stack
    from services.readmodels.evaluation import FORMATS, Costing, connect_and_evaluate, export
    from services.readmodels.settings import EvaluationSettings

    if format not in FORMATS:
        raise typer.BadParameter(" or ".join(FORMATS), param_hint="--format")

    for day, option in ((start, "--from"), (end, "--to")):
        if day.year not in dates.YEARS:  # as the read models bound their days
            years = f"{dates.YEARS[0]} to {dates.YEARS[-1]}"
            raise typer.BadParameter(
                f"{day.date().isoformat()} is not in the years {years}", param_hint=option
            )
    if start > end:
        problem = f"{start:%Y-%m-%d} is after {end:%Y-%m-%d}"
        raise typer.BadParameter(
            f"the period must not end before it starts ({problem})", param_hint="--from/--to"
        )
    costing = Costing.from_settings(EvaluationSettings(), caseworkers)
    period = (start.date(), end.date(), dates.today(), costing, outreach_months)
    if database_url:
        evaluation = asyncio.run(connect_and_evaluate(database_url, *period))
    else:
        with attached_or_running_stack(data_dir, console) as stack:
            evaluation = asyncio.run(connect_and_evaluate(stack.database_url, *period))
    _print_evaluation(evaluation)
    for path in export(evaluation, out, format):
        console.print(f"wrote {path}")


@app.command("case-study")
def case_study(
    ref: Annotated[
        str,
        typer.Argument(
            help="A referral, application or order id, or an order reference (ORD-2026-…)."
        ),
    ],
    out: Annotated[Path, typer.Option(file_okay=False, help="Folder to write into.")] = Path(
        "reports"
    ),
    database_url: StackDatabaseUrl = None,
    data_dir: DataDir = DEFAULT_DATA,
) -> None:
    """One case's story from its history, for the evaluation: the person pseudonymised, dates
    counted from the referral, free text marked for review before publication.

    Writes case-study-<ref>.html and .pdf.
    """
    from civil_orders.stack.embedded import attached_or_running_stack
    from services.readmodels.case_study import render_html, story
    from services.readmodels.documents import write_pdf

    if database_url:
        events = _case_events(database_url, ref)
    else:
        with attached_or_running_stack(data_dir, console) as stack:
            events = _case_events(stack.database_url, ref)
    if not events:
        console.print(f"no case is known by {ref!r}", style="red", markup=False)
        raise typer.Exit(1)
    study = story(events, "Case study")
    out.mkdir(parents=True, exist_ok=True)
    html = render_html(study)
    page = out / f"case-study-{ref}.html"
    page.write_text(html, encoding="utf-8")
    for path in (page, write_pdf(html, page.with_suffix(".pdf"))):
        console.print(f"wrote {path}")
    console.print(f"{study.to_review} free-text passage(s) to review before publication")


def _case_events(database_url: str, ref: str) -> list[dict[str, Any]]:
    """The case's published events, their personal fields opened."""
    import asyncpg

    from plumbing.personal import PersonalData
    from plumbing.settings import Settings
    from services.readmodels.audit import event_key, get_case_events

    async def fetch() -> list[dict[str, Any]]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        try:
            found: list[dict[str, Any]] = []
            while page := await get_case_events(
                pool, ref, event_key(found[-1]) if found else None, 500
            ):
                found += page
            return found
        finally:
            await pool.close()

    events = asyncio.run(fetch())
    settings = Settings(database_url=database_url, kafka_bootstrap_servers="(not used)")
    personal = PersonalData.from_settings(settings, create=False)
    try:
        opened: list[dict[str, Any]] = personal.reveal(events)
        return opened
    finally:
        personal.close()


def _print_evaluation(evaluation: "Evaluation") -> None:
    table = Table(title=f"Evaluation {evaluation.start} to {evaluation.end}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for order_type, count in evaluation.orders_by_type.items():
        table.add_row(f"{order_type}s obtained", str(count))
    for scope, figures in evaluation.breaches.items():
        share = figures["share of breaches by the most-breaching subject"]
        top = f" ({figures['breaches by the most-breaching subject']} by one subject, {share:.0%})"
        table.add_row(f"breaches ({scope})", f"{figures['breaches']}{top if share else ''}")
    cost = evaluation.capacity.cost_per_order
    table.add_row("staff cost per full order", "—" if cost is None else f"£{cost:,.0f}")
    console.print(table)


def _flowing_help(group: typer.Typer) -> None:
    """Each paragraph of a command's docstring flows to the terminal's width, in its help and
    (the first) as its summary in its group's list: typer's rich help keeps the docstring's
    line breaks in both."""
    for command in group.registered_commands:
        if command.help is None and command.callback is not None:
            paragraphs = inspect.cleandoc(command.callback.__doc__ or "").split("\n\n")
            flowing = [" ".join(paragraph.split()) for paragraph in paragraphs]
            command.help = "\n\n".join(flowing)
            command.short_help = command.short_help or flowing[0]
    for subgroup in group.registered_groups:
        if subgroup.typer_instance is not None:
            _flowing_help(subgroup.typer_instance)


def main() -> None:
    """`civil-orders`: a call to a service that fails for good ends the command with one line
    saying which, and exit code 1, not a traceback."""
    import httpx
    from pydantic import ValidationError

    from plumbing.collector import tune_collector
    from plumbing.settings import ClockSettings

    tune_collector()
    try:
        dates.judge_dates_by(ClockSettings().current_time)  # what every command dates by
    except ValidationError as error:
        console.print(f"[red]The clock's settings are wrong:[/]\n{error}")
        raise SystemExit(2) from None
    try:
        app()
    except httpx.HTTPError as error:
        from civil_orders.stack.client import failure_line

        console.print(
            failure_line(error), style="red", markup=False, highlight=False, soft_wrap=True
        )
        raise SystemExit(1) from None


_flowing_help(app)
