"""Rebuilding and verifying the read models from the services' event feeds."""

import operator
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache, reduce
from typing import Annotated, Any

import asyncpg
import httpx
from pydantic import Field, TypeAdapter, create_model
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from plumbing.readmodel import Projection
from plumbing.rebuild import Difference, Feed, Replay, compare, rebuild
from plumbing.settings import EVENT_STORES, Settings
from schemas.envelope import Envelope
from schemas.topics import TOPICS
from services.readmodels.main import PROJECTIONS
from services.web.auth import service_token

PAGE = 5000  # the most the feed gives at once


def named(names: list[str]) -> tuple[Projection, ...]:
    """The projections called `names` (all of them when empty); unknown names are an error."""
    known = {projection.name: projection for projection in PROJECTIONS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise KeyError(f"no projection named {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(known[name] for name in names) if names else PROJECTIONS


@cache
def _feed_page() -> TypeAdapter[Any]:
    """A page of a service's feed, each event validated as the type its `event_type` names."""
    any_event: Any = Annotated[
        reduce(operator.or_, (event for topic in TOPICS for event in topic.events)),
        Field(discriminator="event_type"),
    ]
    item = create_model("FeedItem", topic=(str, ...), event=(any_event, ...))
    return TypeAdapter(
        create_model("FeedPage", events=(list[item], ...), next=(int, ...), head=(int, ...))
    )


def parse_page(body: bytes) -> tuple[list[Envelope], int, int]:
    """A feed page's bytes as (envelopes, next position, head), validated in one call."""
    page = _feed_page().validate_json(body)
    return [item.event for item in page.events], page.next, page.head


def http_feed(http: httpx.AsyncClient, urls: dict[str, str]) -> Feed:
    async def feed(producer: str, after: int) -> tuple[list[Envelope], int, int]:
        response = await http.get(
            f"{urls[producer]}/events", params={"after": after, "limit": PAGE}
        )
        response.raise_for_status()
        return parse_page(response.content)

    return feed


@asynccontextmanager
async def replaying(
    database_url: str, urls: dict[str, str]
) -> AsyncIterator[tuple[asyncpg.Connection, Replay]]:
    """A connection to the read models' database (sending ids in binary, not as text), and a
    replay of every service's feed, read as the tools' service account (the web app's feed
    admits no one else)."""
    settings = Settings(database_url=database_url, kafka_bootstrap_servers="(not used)")
    signed = {"Authorization": f"Bearer {service_token(settings)}"}
    connection = await asyncpg.connect(database_url)
    try:
        # the CA bundle is loaded (~17 ms) only for a feed served over TLS
        tls = any(url.startswith("https:") for url in urls.values())
        async with httpx.AsyncClient(timeout=60.0, headers=signed, verify=tls) as http:
            yield connection, Replay(http_feed(http, urls), EVENT_STORES)
    finally:
        await connection.close()


def _advancing(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return advance


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


async def rebuild_projections(
    database_url: str, urls: dict[str, str], projections: tuple[Projection, ...], console: Console
) -> dict[str, int]:
    """Rebuild the projections from the start of the history, reading it once for all;
    returns the events applied, by projection."""
    async with replaying(database_url, urls) as (connection, replay):
        with progress_bar(console) as progress:
            task = progress.add_task(f"rebuilding {_names(projections)}", total=None)
            return await rebuild(connection, projections, replay, _advancing(progress, task))


async def verify_projections(
    database_url: str, urls: dict[str, str], projections: tuple[Projection, ...], console: Console
) -> list[Difference]:
    """Replay the history beside the live projections, reading it once for all, and report
    every difference."""
    async with replaying(database_url, urls) as (connection, replay):
        with progress_bar(console) as progress:
            task = progress.add_task(f"replaying {_names(projections)}", total=None)
            return await compare(connection, projections, replay, _advancing(progress, task))


def _names(projections: tuple[Projection, ...]) -> str:
    return ", ".join(projection.name for projection in projections)
