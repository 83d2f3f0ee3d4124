"""Read models of the events every service publishes.

Each projection keeps its tables in a PostgreSQL schema of its own, with a `processed` table
of the (producer, sequence) positions it has applied, written in the same transaction as
the change. Handlers are pure: each maps one event to the writes that apply it, so a batch
of events is written together, a statement for many rows (`_write_in_order`). Rebuilding
and verifying by replay are in `plumbing.rebuild`: replayed into empty tables, where each
event comes once, positions and the rows only one event writes are copied in (`load`).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from plumbing.consumer import Consumers, Within
from plumbing.steps import in_steps
from schemas.envelope import Envelope

PROCESSED = """
CREATE TABLE IF NOT EXISTS {schema}.processed (
    producer text NOT NULL,
    sequence bigint NOT NULL,
    PRIMARY KEY (producer, sequence)
);
"""

FIRST_TIME = """
INSERT INTO {schema}.processed SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT DO NOTHING RETURNING producer, sequence
"""


class Write(NamedTuple):
    """One statement a handler asks for: SQL naming its tables `{schema}.table`, and the
    values of its parameters; `own_row` names the table when it inserts the event's own row
    (see `own_row`)."""

    sql: str
    args: tuple[Any, ...]
    own_row: str | None = None


def own_row(table: str, *columns: Any) -> Write:
    """The event's own row of `table`, every column in order, which no other event writes:
    inserted unless it is there already (the event again); copied in by a replay."""
    return Write(_insert_row(table, len(columns)), columns, table)


@cache
def _insert_row(table: str, columns: int) -> str:
    values = ", ".join(f"${i}" for i in range(1, columns + 1))
    return f"INSERT INTO {{schema}}.{table} VALUES ({values}) ON CONFLICT DO NOTHING"


# Maps one event to the writes that apply it, in order; reads nothing.
Handler = Callable[[Any], list[Write]]


@dataclass(frozen=True)
class Projection:
    """`ddl` creates the tables in `{schema}`; each handler writes one event type into them."""

    name: str
    description: str
    ddl: str
    handlers: Mapping[type[Envelope], Handler]
    tables: tuple[str, ...]

    @property
    def schema(self) -> str:
        return f"rm_{self.name}"

    @property
    def lock(self) -> str:
        return f"civil-orders:projection:{self.name}"

    def creation(self, schema: str) -> str:
        """The statements that create the schema and its tables, where they are not yet."""
        ddl, processed = self.ddl.format(schema=schema), PROCESSED.format(schema=schema)
        return f"CREATE SCHEMA IF NOT EXISTS {schema};\n{ddl}\n{processed}"

    async def create(self, connection: asyncpg.Connection, schema: str | None = None) -> None:
        # statements sent together run as one transaction, in one round trip
        await connection.execute(self.creation(schema or self.schema))

    async def apply_in(
        self, connection: asyncpg.Connection, schema: str, envelope: Envelope
    ) -> bool:
        return await self.apply_many(connection, schema, [envelope]) == 1

    async def apply_many(
        self, connection: asyncpg.Connection, schema: str, envelopes: Sequence[Envelope]
    ) -> int:
        """Apply to `schema`, within the caller's transaction, each of `envelopes` that this
        projection takes and has not applied yet; returns how many were applied."""
        fresh = await _first_time(connection, schema, self._taken(envelopes))
        await _write_in_order(connection, schema, self._writes(fresh), copying=False)
        return len(fresh)

    async def load(
        self, connection: asyncpg.Connection, schema: str, envelopes: Sequence[Envelope]
    ) -> int:
        """Apply a stretch of the history to `schema`, being built from it, within the
        caller's transaction: each event comes once (a copy of one already applied fails),
        so its position and the rows only it writes are copied in; returns how many."""
        taken = self._taken(envelopes)
        if not taken:
            return 0
        positions = [(envelope.producer, envelope.sequence) for envelope in taken]
        await connection.copy_records_to_table("processed", schema_name=schema, records=positions)
        await _write_in_order(connection, schema, self._writes(taken), copying=True)
        return len(taken)

    def _taken(self, envelopes: Sequence[Envelope]) -> list[Envelope]:
        return [envelope for envelope in envelopes if type(envelope) in self.handlers]

    def _writes(self, envelopes: list[Envelope]) -> Iterable[tuple[UUID, list[Write]]]:
        return ((e.aggregate_id, self.handlers[type(e)](e)) for e in envelopes)


def locking_order(projections: Iterable[Projection]) -> list[Projection]:
    """The order in which whoever holds several projections' locks at once takes them (the
    live consumer, a rebuild's swap), so that neither waits for the other in a circle."""
    return sorted(projections, key=lambda projection: projection.lock)


async def _first_time(
    connection: asyncpg.Connection, schema: str, envelopes: list[Envelope]
) -> list[Envelope]:
    """Record `envelopes` as processed in `schema`, in one statement; returns those it had
    not processed before, each once."""
    if not envelopes:
        return []
    rows = await connection.fetch(
        FIRST_TIME.format(schema=schema),
        [envelope.producer for envelope in envelopes],
        [envelope.sequence for envelope in envelopes],
    )
    new = {(row["producer"], row["sequence"]) for row in rows}
    fresh = []
    for envelope in envelopes:
        if (envelope.producer, envelope.sequence) in new:
            new.remove((envelope.producer, envelope.sequence))  # a later copy is not new
            fresh.append(envelope)
    return fresh


async def _write_in_order(
    connection: asyncpg.Connection,
    schema: str,
    writes: Iterable[tuple[UUID, list[Write]]],
    copying: bool,
) -> None:
    """Run the writes of each aggregate's events in their order, in steps (`in_steps`: Kafka
    keeps no order across aggregates, and handlers rely on none); `copying`: own rows are
    copied in."""
    flat = ((aggregate, (w.sql, w.own_row), w.args) for aggregate, ws in writes for w in ws)
    for statements in in_steps(flat):
        for (sql, table), rows in statements.items():
            if copying and table:
                await connection.copy_records_to_table(table, schema_name=schema, records=rows)
            else:
                await connection.executemany(sql.format(schema=schema), rows)


def update(table: str, key: tuple[str, Any], **columns: Any) -> Write:
    """Set `columns` on the row of `table` whose key column has the key's value."""
    key_column, key_value = key
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    return Write(
        f"UPDATE {table} SET {assignments} WHERE {key_column} = $1",
        (key_value, *columns.values()),
    )


def subscribe_projections(
    consumers: Consumers, projections: tuple[Projection, ...], pool: asyncpg.Pool
) -> None:
    """Each fetched batch applied to every projection that takes its events, in one
    transaction holding every projection's lock shared (a rebuild's swap waits for them)."""
    if not projections:
        return

    async def project(envelopes: list[Envelope], within: Within) -> None:
        async with pool.acquire() as connection, connection.transaction():
            for projection in locking_order(projections):
                await connection.execute(
                    "SELECT pg_advisory_xact_lock_shared(hashtext($1))", projection.lock
                )
            for projection in projections:
                await projection.apply_many(connection, projection.schema, envelopes)
            await within(connection)

    consumers.on_batch({t for p in projections for t in p.handlers}, project)
