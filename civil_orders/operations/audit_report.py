"""How an audited case reads: a timeline on the terminal, JSON lines, an HTML document."""

import dataclasses
import json
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader
from rich.console import Console
from rich.table import Table
from rich.text import Text

from civil_orders.operations.audit import CaseHistory, Recorded, State

TERMINAL_TEXT_LIMIT = 100


def plain(value: Any) -> Any:
    """A JSON-safe copy: dataclasses as objects, dates and times as ISO 8601, ids as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def readable(value: Any, limit: int | None = None) -> str:
    """A value as a person reads it; long text cut at `limit` characters."""
    value = plain(value)
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}: {readable(v, limit)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(readable(v, limit) for v in value) + "]"
    text = str(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def summary(fields: dict[str, Any], limit: int | None = None) -> str:
    return "; ".join(f"{name}: {readable(value, limit)}" for name, value in fields.items())


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S.%f}"[:-3] + " " + (moment.tzname() or "")


def case_ids(history: CaseHistory) -> list[tuple[str, str]]:
    case = history.case
    rows = [("referral", str(case.referral_id))] if case.referral_id else []
    if case.application_id:
        rows.append(("application", str(case.application_id)))
    rows += [(f"order {reference}", str(order_id)) for order_id, reference in case.orders.items()]
    return rows


def show(history: CaseHistory, console: Console) -> None:
    """The case's events as a timeline, then each aggregate's state (at the as-of time)."""
    console.print(Text(f"Case {history.ref}", style="bold"))
    for label, value in case_ids(history):
        console.print(Text(f"  {label}: {value}"))
    if history.as_of:
        console.print(Text(f"As of {when(history.as_of)}: what the system knew then.", "yellow"))
    console.print(Text(f"{len(history.events)} event(s), oldest first:", style="bold"))
    for recorded in history.events:
        console.print(_headline(recorded))
        console.print(Text("    " + summary(recorded.fields, TERMINAL_TEXT_LIMIT), style="dim"))
    for state in history.states:
        console.print(_state_table(state))


def _headline(recorded: Recorded) -> Text:
    return Text.assemble(
        (when(recorded.time), "cyan"),
        f"  {recorded.service:<12} ",
        (f"{recorded.aggregate}.{recorded.event}", "bold"),
        f" v{recorded.version}  by ",
        (recorded.actor or "(not recorded)", "green"),
        f"  correlation {recorded.correlation_id or '(none)'}",
    )


def _state_table(state: State) -> Table:
    table = Table(
        title=f"{state.aggregate} {state.aggregate_id} ({state.service}) at version "
        f"{state.version}",
        show_header=False,
        title_justify="left",
    )
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in state.fields.items():
        table.add_row(Text(name), Text(readable(value, TERMINAL_TEXT_LIMIT)))
    return table


def export(history: CaseHistory, folder: Path) -> list[Path]:
    """Write the case as `<ref>.jsonl` (one event a line) and `<ref>.html`; returns both."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = folder / f"{history.ref}.jsonl"
    lines.write_text("".join(json.dumps(plain(e)) + "\n" for e in history.events))
    document = folder / f"{history.ref}.html"
    document.write_text(_html(history), encoding="utf-8")
    return [lines, document]


def _html(history: CaseHistory) -> str:
    loader = PackageLoader("civil_orders.operations", "templates")
    environment = Environment(loader=loader, autoescape=True)
    template = environment.get_template("audit.html")
    return template.render(
        history=history,
        ids=case_ids(history),
        events=history.events,
        when=when,
        summary=summary,
        readable=readable,
    )
