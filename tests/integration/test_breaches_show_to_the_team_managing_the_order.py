"""The breach register shows each breach to the team that manages its order now: after a
reallocation the new team sees the order's earlier breaches, its repeat-breach history with
them, and the old team no longer does, whichever way round the order's events and the
breaches (other aggregates, on another topic) arrive; a replay of the history gives the same
tables, so `civil-orders verify readmodels` finds nothing to report."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from plumbing.rebuild import Replay, compare
from schemas.envelope import Envelope
from services.readmodels.breaches import PROJECTION, get_breaches
from tests.service.upstream import (
    breach_recorded,
    order_allocated,
    order_granted,
    order_reallocated,
)

REFERENCE = "ORD-2024-MOVED01"


@pytest.fixture
async def pool(database_url: str, own_database: str) -> AsyncIterator[asyncpg.Pool]:
    """The breach register's tables, empty, in a database of this test's own."""
    pool = await asyncpg.create_pool(database_url, database=own_database, min_size=1, max_size=2)
    async with pool.acquire() as connection:
        await PROJECTION.create(connection)
    try:
        yield pool
    finally:
        await pool.close()


def history() -> dict[str, Envelope]:
    """An order of the north team, breached twice, then moved to the east team."""
    return {
        "granted": order_granted(REFERENCE),
        "allocated": order_allocated(REFERENCE, team="mosovo-north"),
        "first breach": breach_recorded(REFERENCE, team="mosovo-north", number=1),
        "second breach": breach_recorded(REFERENCE, team="mosovo-north", number=2),
        "reallocated": order_reallocated(REFERENCE, to="mosovo-east", from_team="mosovo-north"),
    }


ARRIVALS = {
    "the breaches, then the reallocation": [
        "granted", "allocated", "first breach", "second breach", "reallocated",
    ],
    "the breaches before any of the order's events": [
        "first breach", "second breach", "granted", "allocated", "reallocated",
    ],
    "the reallocation before the breaches": [
        "granted", "allocated", "reallocated", "first breach", "second breach",
    ],
}  # fmt: skip


@pytest.mark.parametrize("arrival", ARRIVALS.values(), ids=list(ARRIVALS))
async def test_the_team_now_managing_an_order_sees_its_earlier_breaches_and_the_old_team_not(
    pool: asyncpg.Pool, arrival: list[str]
) -> None:
    events = history()
    async with pool.acquire() as connection:
        for name in arrival:  # each event as the live consumer applies it, one at a time
            await PROJECTION.apply_in(connection, PROJECTION.schema, events[name])

    # the order's page, as the east team's officer reads it
    east = await get_breaches(pool, REFERENCE, "mosovo-east", None, 100)
    assert [(b["breach_number"], b["team"]) for b in east] == [
        (2, "mosovo-east"),
        (1, "mosovo-east"),
    ]
    # the north team's breach register, and the order's page as its officer reads it
    assert await get_breaches(pool, None, "mosovo-north", None, 100) == []
    assert await get_breaches(pool, REFERENCE, "mosovo-north", None, 100) == []

    # the history replayed, as `civil-orders verify readmodels` does it: the same tables
    async with pool.acquire() as connection:
        replay = Replay(feed_of(list(events.values())), ("application", "breach"))
        assert await compare(connection, [PROJECTION], replay, lambda read, total: None) == []


def feed_of(envelopes: list[Envelope]) -> Any:
    """Each producer's stored history, served in one page, as `GET /events?after=N` does."""

    async def feed(producer: str, after: int) -> tuple[list[Envelope], int, int]:
        stored = {e.sequence or 0: e for e in envelopes if e.producer == producer}
        head = max(stored, default=0)
        return [e for position, e in sorted(stored.items()) if position > after], head, head

    return feed
