"""A small save goes to PostgreSQL as one round trip (`plumbing.outbox.sent_whole`): BEGIN, its
statements and COMMIT behind a single Sync. It commits all of them or, on any error, none, and
leaves the connection ready for the next save."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq

from plumbing.outbox import sent_whole


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:  # as the library's pool's
        conn.execute("CREATE TEMP TABLE saved (id integer PRIMARY KEY)")
        yield conn


def saved(conn: psycopg.Connection[Any]) -> list[int]:
    return [row[0] for row in conn.execute("SELECT id FROM saved ORDER BY id")]


def test_the_whole_transaction_is_sent_behind_one_sync(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    trace = tmp_path / "protocol"
    with trace.open("w") as out:
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        with sent_whole(conn):
            conn.execute("LOCK TABLE saved IN EXCLUSIVE MODE")  # (only in a transaction block)
            conn.execute("INSERT INTO saved VALUES (1), (2)")
        conn.pgconn.untrace()
    sent = [line.split("\t") for line in trace.read_text().splitlines() if line.startswith("F")]
    assert [fields[2] for fields in sent].count("Sync") == 1
    assert saved(conn) == [1, 2]
    assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_a_statement_the_server_refuses_leaves_nothing_of_the_save(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("INSERT INTO saved VALUES (1)")
    with pytest.raises(psycopg.errors.UniqueViolation), sent_whole(conn):
        conn.execute("INSERT INTO saved VALUES (2)")
        conn.execute("INSERT INTO saved VALUES (1)")  # a concurrent save got there first
        conn.execute("INSERT INTO saved VALUES (3)")
    assert conn.info.transaction_status == pq.TransactionStatus.IDLE
    assert saved(conn) == [1]
    with sent_whole(conn):
        conn.execute("INSERT INTO saved VALUES (4)")
    assert saved(conn) == [1, 4]


def test_a_failure_in_this_process_rolls_back_what_was_sent(
    conn: psycopg.Connection[Any],
) -> None:
    with pytest.raises(RuntimeError), sent_whole(conn):
        conn.execute("INSERT INTO saved VALUES (1)")
        raise RuntimeError("a wire message could not be made")
    assert conn.info.transaction_status == pq.TransactionStatus.IDLE
    assert saved(conn) == []
