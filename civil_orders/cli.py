"""The civil-orders command line."""

import importlib
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from plumbing.settings import SERVICE_PORTS

app = typer.Typer(
    help=(
        "civil-orders: casework for Sexual Risk Orders and Sexual Harm Prevention Orders.\n\n"
        "Referrals become court applications, granted orders are allocated to district MOSOVO "
        "teams, breaches are recorded, and every step is an event auditors can replay."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
console = Console()
DataDir = Annotated[
    Path, typer.Option(envvar="CIVIL_ORDERS_DATA", help="Folder for the embedded servers' data.")
]


@app.callback()
def main() -> None:
    """Run `civil-orders up` to start everything, then `civil-orders demo` in another terminal."""


@app.command()
def serve(
    name: Annotated[
        str, typer.Argument(help="referral, application, breach, notification or team-inbox")
    ],
    port: Annotated[int | None, typer.Option(help="HTTP port (default: the service's own)")] = None,
) -> None:
    """Run one service as its own process (DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS must be set)."""
    if name == "team-inbox":
        target, default_port = "civil_orders.team_inbox:create_app", 8109
    elif name in SERVICE_PORTS:
        target, default_port = f"services.{name}.main:app", SERVICE_PORTS[name]
    else:
        raise typer.BadParameter(f"no service named {name!r}", param_hint="NAME")
    importlib.import_module(target.split(":")[0])
    uvicorn.run(
        target, factory=True, host="127.0.0.1", port=port or default_port, log_level="warning"
    )


@app.command()
def demo(data_dir: DataDir = Path(".civil-orders")) -> None:
    """Start the whole stack, run the thin path with synthetic people, and stop again."""
    import asyncio

    from civil_orders.client import Client
    from civil_orders.demo import run_demo
    from civil_orders.stack import running_stack

    with console.status("Starting PostgreSQL, Kafka and the four services..."):
        stack_context = running_stack(data_dir)
        stack = stack_context.__enter__()
    try:
        urls = {name: stack.url(name) for name in stack.ports}
        console.print(
            f"Stack ready: PostgreSQL {stack.database_url}, Kafka {stack.bootstrap_servers}"
        )

        async def go() -> None:
            async with Client(urls, stack.bootstrap_servers, stack.database_url) as client:
                await run_demo(client, console)

        asyncio.run(go())
    finally:
        stack_context.__exit__(None, None, None)
