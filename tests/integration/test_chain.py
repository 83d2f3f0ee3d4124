"""The hash chain's trigger takes each event's predecessor from the transaction that stored it
where it can; the chain must hold however transactions interleave, roll back or fail."""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from plumbing.chain import events_table, install, verify_chain

SCHEMA = "chain_trigger"
TABLE = sql.Identifier(SCHEMA, events_table(SCHEMA))
INSERT = sql.SQL(
    "INSERT INTO {} (originator_id, originator_version, topic, state)"
    " SELECT * FROM unnest(%s::uuid[], %s::int8[], %s::text[], %s::bytea[])"
).format(TABLE)


@pytest.fixture
def store(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An events table as the library makes it, with the chain installed."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
                " topic text, state bytea, notification_id bigserial,"
                " PRIMARY KEY (originator_id, originator_version))"
            ).format(TABLE)
        )
        with conn.transaction(), conn.cursor() as cursor:
            install(cursor, SCHEMA, events_table(SCHEMA))
        try:
            yield conn
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(SCHEMA)))


def store_events(conn: psycopg.Connection[Any], count: int) -> None:
    """`count` new aggregates' first events, in one statement, with the table locked."""
    conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(TABLE))
    ids = [uuid4() for _ in range(count)]
    conn.execute(INSERT, (ids, [1] * count, ["Topic"] * count, [b"state"] * count))


def test_many_events_in_a_statement_and_transactions_one_after_another_chain_on(
    store: psycopg.Connection[Any], database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as other:
        for conn, count in ((store, 300), (other, 1), (store, 2), (other, 150), (store, 1)):
            with conn.transaction():
                store_events(conn, count)
                store_events(conn, 3)  # a second statement of the same transaction

    report = verify_chain(store, SCHEMA)

    assert (report.events_checked, report.intact) == (469, True)


class GivenUp(Exception):
    """The caller gives up half-way: what it stored is rolled back."""


def test_an_event_rolled_back_to_a_savepoint_is_not_the_next_ones_predecessor(
    store: psycopg.Connection[Any],
) -> None:
    with store.transaction():
        store_events(store, 2)
        with pytest.raises(GivenUp), store.transaction():
            store_events(store, 1)  # the last stored, and the next position's predecessor...
            raise GivenUp
        store_events(store, 2)  # ...but rolled back before that position is stored
    with store.transaction():
        store_events(store, 1)

    report = verify_chain(store, SCHEMA)

    assert (report.events_checked, report.intact) == (5, True)


def test_a_transaction_rolled_back_leaves_nothing_for_the_next_one(
    store: psycopg.Connection[Any],
) -> None:
    with store.transaction():
        store_events(store, 1)
    with pytest.raises(GivenUp), store.transaction():
        store_events(store, 1)
        raise GivenUp
    with store.transaction():
        store_events(store, 2)
    with pytest.raises(psycopg.errors.UniqueViolation), store.transaction():
        store_events(store, 1)
        store.execute(INSERT, ([uuid4()] * 2, [1, 1], ["Topic"] * 2, [b""] * 2))
    with store.transaction():
        store_events(store, 1)

    report = verify_chain(store, SCHEMA)

    assert (report.events_checked, report.intact) == (4, True)
