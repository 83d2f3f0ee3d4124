"""Read models of the events every service publishes.

Each projection keeps its tables in a PostgreSQL schema of its own, with a `processed` table
of the (producer, sequence) positions it has applied, written in the same transaction as
the change. Handlers are pure: each maps one event to the writes that apply it, so a batch
of events is written together, a statement for many rows (`_write_in_order`). A rebuild
replays the services' event feeds into a fresh schema, then, holding the projection's lock
so the live consumer waits, catches up and swaps it in.
"""

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.consumer import Consumers
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


@dataclass(frozen=True)
class Write:
    """One statement a handler asks for: SQL naming its tables `{schema}.table`, and the
    values of its parameters."""

    sql: str
    args: tuple[Any, ...]


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

    async def create(self, connection: asyncpg.Connection, schema: str | None = None) -> None:
        schema = schema or self.schema
        async with connection.transaction():
            await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await connection.execute(self.ddl.format(schema=schema))
            await connection.execute(PROCESSED.format(schema=schema))

    async def apply(self, connection: asyncpg.Connection, envelope: Envelope) -> bool:
        """Apply one event to the live tables, unless already applied. A rebuild holding the
        lock exclusively makes this wait until the rebuilt tables are in place."""
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock_shared(hashtext($1))", self.lock)
            return await self.apply_in(connection, self.schema, envelope)

    async def apply_in(
        self, connection: asyncpg.Connection, schema: str, envelope: Envelope
    ) -> bool:
        return await self.apply_many(connection, schema, [envelope]) == 1

    async def apply_many(
        self, connection: asyncpg.Connection, schema: str, envelopes: Sequence[Envelope]
    ) -> int:
        """Apply to `schema`, within the caller's transaction, each of `envelopes` that this
        projection takes and has not applied yet; returns how many were applied."""
        taken = [envelope for envelope in envelopes if type(envelope) in self.handlers]
        fresh = await _first_time(connection, schema, taken)
        writes = ((e.aggregate_id, self.handlers[type(e)](e)) for e in fresh)
        await _write_in_order(connection, schema, writes)
        return len(fresh)


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
    connection: asyncpg.Connection, schema: str, writes: Iterable[tuple[UUID, list[Write]]]
) -> None:
    """Run the writes of each aggregate's events in their order. Handlers rely on no order
    across aggregates (Kafka keeps none), so the n-th write of every aggregate is one step,
    and a step runs each statement once for all its rows."""
    steps: list[dict[str, list[tuple[Any, ...]]]] = []
    written: Counter[UUID] = Counter()
    for aggregate, aggregate_writes in writes:
        for write in aggregate_writes:
            step = written[aggregate]
            written[aggregate] += 1
            if step == len(steps):
                steps.append(defaultdict(list))
            steps[step][write.sql].append(write.args)
    for statements in steps:
        for sql, rows in statements.items():
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
    """One policy per event type, applying it to every projection that takes it."""
    interested: dict[type[Envelope], list[Projection]] = defaultdict(list)
    for projection in projections:
        for event_type in projection.handlers:
            interested[event_type].append(projection)
    for event_type, applying in interested.items():
        consumers.on(event_type, _project(applying, pool))


def _project(projections: list[Projection], pool: asyncpg.Pool) -> Callable[[Any], Any]:
    async def project(envelope: Envelope) -> None:
        async with pool.acquire() as connection:
            for projection in projections:
                await projection.apply(connection, envelope)

    project.__name__ = f"project_into_{'_'.join(p.name for p in projections)}"
    return project


# A service's published history after a position: (envelopes, next position, head).
Feed = Callable[[str, int], Awaitable[tuple[list[Envelope], int, int]]]
Progress = Callable[[int, int], None]  # (events read so far, events in all feeds)


@dataclass
class Replay:
    """Reads every service's feed from where it last stopped."""

    feed: Feed
    producers: tuple[str, ...]

    def __post_init__(self) -> None:
        self.positions = dict.fromkeys(self.producers, 0)
        self.heads = dict.fromkeys(self.producers, 0)

    async def batches(self) -> AsyncIterator[list[Envelope]]:
        for producer in self.producers:
            while True:
                envelopes, position, head = await self.feed(producer, self.positions[producer])
                self.heads[producer] = head
                if position == self.positions[producer]:
                    break
                self.positions[producer] = position
                yield envelopes

    @property
    def read(self) -> int:
        return sum(self.positions.values())

    @property
    def total(self) -> int:
        return sum(self.heads.values())


async def replay_into(
    connection: asyncpg.Connection,
    projection: Projection,
    schema: str,
    replay: Replay,
    progress: Progress,
) -> int:
    """Apply the rest of the history to `schema`, a batch per transaction."""
    applied = 0
    async for batch in replay.batches():
        async with connection.transaction():
            applied += await projection.apply_many(connection, schema, batch)
        progress(replay.read, replay.total)
    return applied


async def drop(connection: asyncpg.Connection, schema: str) -> None:
    await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def rebuild(
    connection: asyncpg.Connection, projection: Projection, replay: Replay, progress: Progress
) -> int:
    """Rebuild from the start of the history beside the live tables, then swap them in."""
    building, retired = f"{projection.schema}__next", f"{projection.schema}__old"
    await drop(connection, building)
    await projection.create(connection, building)
    applied = await replay_into(connection, projection, building, replay, progress)
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", projection.lock)
        applied += await replay_into(connection, projection, building, replay, progress)
        await drop(connection, retired)
        await connection.execute(f"ALTER SCHEMA {projection.schema} RENAME TO {retired}")
        await connection.execute(f"ALTER SCHEMA {building} RENAME TO {projection.schema}")
        await drop(connection, retired)
    return applied


@dataclass(frozen=True)
class Difference:
    projection: str
    table: str
    only_live: int
    only_rebuilt: int
    example: dict[str, Any] | None


async def compare(
    connection: asyncpg.Connection, projection: Projection, replay: Replay, progress: Progress
) -> list[Difference]:
    """Replay the history into a scratch schema and compare every table with the live one,
    holding the lock so neither moves while they are compared. Events the live consumer has
    not reached yet (it lags the stores a little) are applied to it first, exactly as it
    would apply them, so only a real divergence shows as a difference."""
    scratch = f"{projection.schema}__verify"
    await drop(connection, scratch)
    await projection.create(connection, scratch)
    try:
        await replay_into(connection, projection, scratch, replay, progress)
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", projection.lock)
            await replay_into(connection, projection, scratch, replay, progress)
            await _bring_live_to(connection, projection, scratch, replay.feed)
            return [
                difference
                for table in (*projection.tables, "processed")
                if (difference := await _compare_table(connection, projection, scratch, table))
            ]
    finally:
        await drop(connection, scratch)


async def _bring_live_to(
    connection: asyncpg.Connection, projection: Projection, scratch: str, feed: Feed
) -> None:
    """Apply to the live tables each event the scratch replay holds and they do not, reading
    each page of the feed once for all the missing events it holds."""
    rows = await connection.fetch(
        f"""SELECT producer, sequence FROM {scratch}.processed
            EXCEPT SELECT producer, sequence FROM {projection.schema}.processed"""
    )
    missing = {(row["producer"], row["sequence"]) for row in rows}
    for producer, sequence in sorted(missing):
        if (producer, sequence) not in missing:
            continue  # applied from an earlier page
        envelopes, _, _ = await feed(producer, sequence - 1)
        for envelope in envelopes:
            if (envelope.producer, envelope.sequence) in missing:
                await projection.apply_in(connection, projection.schema, envelope)
                missing.discard((envelope.producer, envelope.sequence))


async def _compare_table(
    connection: asyncpg.Connection, projection: Projection, scratch: str, table: str
) -> Difference | None:
    live, rebuilt = f"{projection.schema}.{table}", f"{scratch}.{table}"
    only_live = await connection.fetch(f"SELECT * FROM {live} EXCEPT ALL SELECT * FROM {rebuilt}")
    only_rebuilt = await connection.fetch(
        f"SELECT * FROM {rebuilt} EXCEPT ALL SELECT * FROM {live}"
    )
    if not only_live and not only_rebuilt:
        return None
    example = (only_live or only_rebuilt)[0]
    return Difference(projection.name, table, len(only_live), len(only_rebuilt), dict(example))
