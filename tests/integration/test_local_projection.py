"""A local projection applies a save's events in steps (`plumbing.steps`): a statement runs once
for the rows of many aggregates, yet each aggregate's rows end as its events, in their order,
left them."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import pq

from plumbing.projection import LocalProjection, update_row


@dataclass(frozen=True)
class Opened:
    originator_id: UUID
    title: str


@dataclass(frozen=True)
class Renamed:
    originator_id: UUID
    title: str


@dataclass(frozen=True)
class Closed:
    originator_id: UUID


def opened(cursor: Any, event: Opened) -> None:
    cursor.execute(
        "INSERT INTO files (file_id, title, renames) VALUES (%s, %s, 0)",
        (event.originator_id, event.title),
    )


def renamed(cursor: Any, event: Renamed) -> None:
    cursor.execute(
        "UPDATE files SET title = %s, renames = renames + 1 WHERE file_id = %s",
        (event.title, event.originator_id),
    )


FILES = LocalProjection(
    "files",
    "CREATE TEMP TABLE files (file_id uuid PRIMARY KEY, title text, renames int, closed bool)",
    {
        Opened: opened,
        Renamed: renamed,
        Closed: lambda c, e: update_row(c, "files", ("file_id", e.originator_id), closed=True),
    },
)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(FILES.ddl)
        yield conn


def files(conn: psycopg.Connection[Any]) -> dict[UUID, tuple[str, int, bool | None]]:
    rows = conn.execute("SELECT file_id, title, renames, closed FROM files").fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_each_aggregates_rows_end_as_its_events_in_order_left_them(
    conn: psycopg.Connection[Any],
) -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    events: list[Any] = [
        Opened(a, "a1"),
        Opened(b, "b1"),
        Renamed(a, "a2"),
        Closed(b),
        Renamed(a, "a3"),
        Opened(c, "c1"),  # its first write comes after others' third
        Renamed(c, "c2"),
        Renamed(b, "b2"),
    ]
    with conn.cursor() as cursor:
        FILES.project(cursor, events)
    assert files(conn) == {a: ("a3", 2, None), b: ("b2", 1, True), c: ("c2", 1, None)}


def test_a_statement_runs_once_for_the_rows_of_many_aggregates(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    ids = [uuid4() for _ in range(50)]
    events: list[Any] = [e for i in ids for e in (Opened(i, "first"), Renamed(i, "second"))]
    trace = tmp_path / "protocol"
    with trace.open("w") as out, conn.cursor() as cursor:
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        FILES.project(cursor, events)
        conn.pgconn.untrace()
    sent = [line.split("\t") for line in trace.read_text().splitlines() if line.startswith("F")]
    parsed = [fields for fields in sent if fields[2] == "Parse"]
    assert len(parsed) == 2  # the insert and the update, each parsed once for 50 rows
    assert set(files(conn).values()) == {("second", 1, None)}
