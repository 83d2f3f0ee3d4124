"""Read models of the events every service publishes.

Each projection keeps its tables in a PostgreSQL schema of its own, with a `processed` table
of the (producer, sequence) positions it has applied, written in the same transaction as
the change. A rebuild replays the services' event feeds into a fresh schema, then, holding
the projection's lock so the live consumer waits, catches up and swaps it in.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from plumbing.consumer import Consumers
from schemas.envelope import Envelope

Handler = Callable[[asyncpg.Connection, str, Any], Awaitable[None]]

PROCESSED = """
CREATE TABLE IF NOT EXISTS {schema}.processed (
    producer text NOT NULL,
    sequence bigint NOT NULL,
    PRIMARY KEY (producer, sequence)
);
"""


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

    async def apply_in(
        self, connection: asyncpg.Connection, schema: str, envelope: Envelope
    ) -> bool:
        handler = self.handlers.get(type(envelope))
        if handler is None:
            return False
        first_time = await connection.fetchval(
            f"""INSERT INTO {schema}.processed (producer, sequence) VALUES ($1, $2)
                ON CONFLICT DO NOTHING RETURNING true""",
            envelope.producer,
            envelope.sequence,
        )
        if first_time:
            await handler(connection, schema, envelope)
        return bool(first_time)


async def update(db: asyncpg.Connection, table: str, key: tuple[str, Any], **columns: Any) -> None:
    """Set `columns` on the row of `table` whose key column has the key's value."""
    key_column, key_value = key
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    await db.execute(
        f"UPDATE {table} SET {assignments} WHERE {key_column} = $1", key_value, *columns.values()
    )


def subscribe_projections(
    consumers: Consumers, projections: tuple[Projection, ...], pool: asyncpg.Pool
) -> None:
    """Each fetched batch applied to every projection that takes its events, in one
    transaction holding each projection's lock shared (a rebuild's swap waits for it)."""
    if not projections:
        return

    async def project(envelopes: list[Envelope]) -> None:
        async with pool.acquire() as connection, connection.transaction():
            for projection in projections:
                await connection.execute(
                    "SELECT pg_advisory_xact_lock_shared(hashtext($1))", projection.lock
                )
            for envelope in envelopes:
                for projection in projections:
                    await projection.apply_in(connection, projection.schema, envelope)

    consumers.on_batch({t for p in projections for t in p.handlers}, project)


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
            for envelope in batch:
                applied += await projection.apply_in(connection, schema, envelope)
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
