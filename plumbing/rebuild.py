"""Rebuilding and verifying read models by replaying the services' event feeds.

One pass reads every service's history once for all the projections being rebuilt (or
verified), applying each page to each projection's own schema beside its live one. Then,
holding their locks so their live consumer waits, what arrived meanwhile is applied: a
rebuild takes every projection's lock at once and swaps them all in; a verification, one
projection at a time, compares its scratch schema with the live one.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from plumbing.readmodel import Projection, locking_order
from schemas.envelope import Envelope

# A service's published history after a position: (envelopes, next position, head).
Feed = Callable[[str, int], Awaitable[tuple[list[Envelope], int, int]]]
Progress = Callable[[int, int], None]  # (events read so far, events in all feeds)
# A projection, and the schema it is replayed into.
Target = tuple[Projection, str]


@dataclass
class Replay:
    """Reads every service's feed from where it last stopped."""

    feed: Feed
    producers: tuple[str, ...]

    def __post_init__(self) -> None:
        self.positions = dict.fromkeys(self.producers, 0)
        self.heads = dict.fromkeys(self.producers, 0)

    def resumed(self) -> "Replay":
        """A replay of what this one has not read yet; this one stays where it is."""
        replay = Replay(self.feed, self.producers)
        replay.positions.update(self.positions)
        replay.heads.update(self.heads)
        return replay

    async def batches(self) -> AsyncIterator[list[Envelope]]:
        """Every feed's pages in turn, each read while the one before it is applied: a feed
        is left once a page reaches the head it gave, and the next feed's first page is read
        meanwhile (what a feed stores after that is for a resumed replay)."""
        pending = list(self.producers)
        producer = pending.pop(0)
        page: asyncio.Future[tuple[list[Envelope], int, int]] | None
        page = asyncio.ensure_future(self.feed(producer, self.positions[producer]))
        try:
            while page is not None:
                envelopes, position, head = await page
                self.heads[producer] = head
                moved = position != self.positions[producer]
                self.positions[producer] = position
                if moved and position < head:
                    page = asyncio.ensure_future(self.feed(producer, position))
                elif pending:
                    producer = pending.pop(0)
                    page = asyncio.ensure_future(self.feed(producer, self.positions[producer]))
                else:
                    page = None
                if moved:
                    yield envelopes
        finally:
            if page is not None:
                page.cancel()

    @property
    def read(self) -> int:
        return sum(self.positions.values())

    @property
    def total(self) -> int:
        return sum(self.heads.values())


async def replay_into(
    connection: asyncpg.Connection,
    targets: Sequence[Target],
    replay: Replay,
    progress: Progress,
) -> Counter[str]:
    """Apply the rest of the history to every target, a page per transaction; returns the
    events applied, by projection."""
    applied = Counter(dict.fromkeys((projection.name for projection, _ in targets), 0))
    async for page in replay.batches():
        async with connection.transaction():
            for projection, schema in targets:
                applied[projection.name] += await projection.load(connection, schema, page)
        progress(replay.read, replay.total)
    return applied


async def drop(connection: asyncpg.Connection, schema: str) -> None:
    await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def _fresh_schemas(
    connection: asyncpg.Connection, projections: Sequence[Projection], suffix: str
) -> list[Target]:
    """Each projection's tables, empty, in a schema named after its own with `suffix`; made
    in one round trip (DDL's cost is mostly PostgreSQL's own, but not all of it)."""
    targets = [(projection, f"{projection.schema}__{suffix}") for projection in projections]
    await connection.execute(
        "\n".join(
            f"DROP SCHEMA IF EXISTS {schema} CASCADE;\n{projection.creation(schema)}"
            for projection, schema in targets
        )
    )
    return targets


async def _lock(connection: asyncpg.Connection, projection: Projection) -> None:
    """Until the transaction ends, the live consumer waits to apply to this projection."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", projection.lock)


async def rebuild(
    connection: asyncpg.Connection,
    projections: Sequence[Projection],
    replay: Replay,
    progress: Progress,
) -> dict[str, int]:
    """Rebuild the projections from the start of the history beside their live tables, in
    one pass; then, holding every one's lock, apply what arrived meanwhile, reading it once
    for all, and swap them all in; returns the events applied, by projection."""
    building = await _fresh_schemas(connection, projections, "next")
    applied = await replay_into(connection, building, replay, progress)
    async with connection.transaction():
        for projection in locking_order(projections):
            await _lock(connection, projection)
        applied.update(await replay_into(connection, building, replay.resumed(), progress))
        await connection.execute("\n".join(_swap_in(*target) for target in building))
    return dict(applied)


def _swap_in(projection: Projection, building: str) -> str:
    """The statements that put the schema built in place of the projection's live one."""
    live, retired = projection.schema, f"{projection.schema}__old"
    return f"""DROP SCHEMA IF EXISTS {retired} CASCADE;
        ALTER SCHEMA {live} RENAME TO {retired};
        ALTER SCHEMA {building} RENAME TO {live};
        DROP SCHEMA {retired} CASCADE;"""


@dataclass(frozen=True)
class Difference:
    projection: str
    table: str
    only_live: int
    only_rebuilt: int
    example: dict[str, Any] | None


async def compare(
    connection: asyncpg.Connection,
    projections: Sequence[Projection],
    replay: Replay,
    progress: Progress,
) -> list[Difference]:
    """Replay the history into scratch schemas, in one pass, and compare every table of each
    projection with the live one."""
    try:
        scratches = await _fresh_schemas(connection, projections, "verify")
        await replay_into(connection, scratches, replay, progress)
        differences = []
        for projection, scratch in scratches:
            differences += await _compare_caught_up(
                connection, projection, scratch, replay.resumed(), progress
            )
        return differences
    finally:
        for projection in projections:
            await drop(connection, f"{projection.schema}__verify")


async def _compare_caught_up(
    connection: asyncpg.Connection,
    projection: Projection,
    scratch: str,
    replay: Replay,
    progress: Progress,
) -> list[Difference]:
    """Holding the lock, so neither side moves while they are compared, the scratch replay
    catches up. Events the live consumer has not reached yet (it lags the stores a little)
    are applied to it first, exactly as it would apply them, so only a real divergence shows
    as a difference."""
    async with connection.transaction():
        await _lock(connection, projection)
        await replay_into(connection, [(projection, scratch)], replay, progress)
        await _bring_live_to(connection, projection, scratch, replay.feed)
        return [
            difference
            for table in (*projection.tables, "processed")
            if (difference := await _compare_table(connection, projection, scratch, table))
        ]


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
        found = [e for e in envelopes if (e.producer, e.sequence) in missing]
        await projection.apply_many(connection, projection.schema, found)
        missing.difference_update((e.producer, e.sequence) for e in found)


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
