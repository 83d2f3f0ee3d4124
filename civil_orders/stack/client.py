"""A client of the running services, as a district system or a member of staff would be."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.progress import Progress, TaskID
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from plumbing.deadletters import DeadLetter, connect_and_list
from plumbing.paging import MAX_LIMIT, NEXT_CURSOR
from plumbing.publishing import BATCH_BYTES, publish_in_order
from schemas.envelope import Envelope
from schemas.topics import topic, topic_of

T = TypeVar("T")
STALL_SECONDS = 60  # give up waiting when nothing has moved for this long
POLL_SECONDS = 0.02
ATTEMPTS = 5  # over a second or two
# Sending these twice does what sending them once does (RFC 9110); the services' POSTs take
# no idempotency key, so a POST is sent again only when its connection was refused.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def safe_to_send_again(error: BaseException, method: str) -> bool:
    """The connection was refused, so the request never went out; or it dropped (a pooled
    connection the server had closed, say) under a request that may safely go twice."""
    if isinstance(error, httpx.ConnectError):
        return True
    if isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError):
        return method in IDEMPOTENT
    return False


class Retrying(httpx.AsyncBaseTransport):
    """Sends a request again, backing off, when its connection fails and that is safe."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # the transport's errors carry no request yet (the client adds it), so ask this one's
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: safe_to_send_again(error, request.method)),
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.1, max=1.0),
            reraise=True,
        )
        return await retrying(self.inner.handle_async_request, request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def failure_line(error: httpx.HTTPError) -> str:
    """One line saying which call failed, and how."""
    call = f"{error.request.method} {error.request.url}"
    if isinstance(error, httpx.HTTPStatusError):
        return f"{call} was refused ({error.response.status_code}): {error.response.text[:300]}"
    tries = f"{ATTEMPTS} tries" if safe_to_send_again(error, error.request.method) else "one try"
    return f"{call} failed after {tries}: {type(error).__name__} {error}".rstrip()


PUBLISHED_AT_ONCE = 2000  # envelopes a lot, each lot taken by the broker before the next


@dataclass(frozen=True)
class _Outgoing:
    topic: str
    key: bytes
    value: bytes
    event_type: str
    correlation_id: str


def _outgoing(envelope: Envelope) -> _Outgoing:
    return _Outgoing(
        topic_of(type(envelope)).name,
        str(envelope.aggregate_id).encode(),
        envelope.model_dump_json().encode(),
        envelope.event_type,
        str(envelope.correlation_id),
    )


class Client:
    def __init__(
        self,
        urls: dict[str, str],
        bootstrap_servers: str,
        database_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = urls
        self.database_url = database_url
        self.bootstrap_servers = bootstrap_servers
        self.http = httpx.AsyncClient(timeout=10.0, transport=Retrying(transport))
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", max_batch_size=BATCH_BYTES
        )

    async def __aenter__(self) -> "Client":
        await self.producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.producer.stop()
        await self.http.aclose()

    async def publish(self, envelope: Envelope) -> None:
        """Publish as a district system does, keyed by its aggregate (so in order per key)."""
        await self.publish_raw(
            topic_of(type(envelope)).name,
            envelope.model_dump_json().encode(),
            key=str(envelope.aggregate_id).encode(),
        )

    async def publish_all(self, envelopes: Iterable[Envelope]) -> AsyncIterator[int]:
        """Publish many as district systems do, keyed by aggregate (so in order per key), a
        lot at a time, each lot a batch a partition (see `plumbing.publishing`); yields how
        many each lot held once the broker has taken it."""
        envelopes = iter(envelopes)
        while lot := [_outgoing(e) for e in islice(envelopes, PUBLISHED_AT_ONCE)]:
            await publish_in_order(self.producer, lot)
            yield len(lot)

    async def publish_raw(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        await self.producer.send_and_wait(topic, value, key=key)

    async def dead_letters(self) -> list[DeadLetter]:
        return await connect_and_list(self.database_url, include_retried=True)

    async def team_alerts(
        self, team: str, after: int | None = None, limit: int | None = None, wait: float = 0
    ) -> list[dict[str, Any]]:
        """What the team's webhook received, in arrival order, each with its `position`: those
        after position `after` (a poller passes the last it saw), else the latest. With `after`,
        waits up to `wait` seconds for something to arrive."""
        return await self._arrived(f"/teams/{team}/alerts", after, limit, wait)

    async def mail(
        self, address: str, after: int | None = None, limit: int | None = None, wait: float = 0
    ) -> list[dict[str, Any]]:
        """The email sent to `address`, as `team_alerts` lists a webhook's."""
        return await self._arrived(f"/mail/{address}", after, limit, wait)

    async def _arrived(
        self, path: str, after: int | None, limit: int | None, wait: float
    ) -> list[Any]:
        asked = (("after", after), ("limit", limit), ("wait", wait or None))
        params = {k: v for k, v in asked if v is not None}
        response = await self.get("team-inbox", path, params)
        response.raise_for_status()
        return list(response.json())

    async def get(
        self, service: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.http.get(f"{self.urls[service]}{path}", params=params)

    async def every(
        self, service: str, path: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a paged list, following its cursors page by page."""
        rows: list[dict[str, Any]] = []
        query = {**(params or {}), "limit": MAX_LIMIT}
        while True:
            response = await self.get(service, path, query)
            response.raise_for_status()
            rows.extend(response.json())
            if NEXT_CURSOR not in response.headers:
                return rows
            query["cursor"] = response.headers[NEXT_CURSOR]

    async def command(
        self, service: str, path: str, actor: str, body: Any = None, method: str = "POST"
    ) -> Any:
        response = await self.http.request(
            method, f"{self.urls[service]}{path}", json=body, headers={"X-Actor": actor}
        )
        response.raise_for_status()
        return response.json() if response.content else None

    async def query(self, service: str, path: str, body: Any) -> Any:
        """A query whose terms go in the body (too many, or too personal, for a URL)."""
        response = await self.http.post(f"{self.urls[service]}{path}", json=body)
        response.raise_for_status()
        return response.json()

    async def found(self, service: str, path: str, seconds: float = 30.0) -> Any:
        """Wait until `path` answers 200 (the event has reached that service); return it."""

        async def attempt() -> Any:
            response = await self.get(service, path)
            return response.json() if response.status_code == 200 else None

        return await eventually(attempt, seconds, f"{service}{path}")


async def eventually(attempt: Callable[[], Awaitable[T | None]], seconds: float, what: str) -> T:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await attempt()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {seconds:.0f}s")
        await asyncio.sleep(0.05)


class _GroupOffsets:
    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self.consumer = consumer
        self.partitions = partitions

    async def end_offsets(self) -> dict[TopicPartition, int]:
        return dict(await self.consumer.end_offsets(self.partitions))

    async def behind(self, ends: dict[TopicPartition, int]) -> int:
        """Messages before `ends` the group has not yet committed."""
        committed = [await self.consumer.committed(p) or 0 for p in self.partitions]
        return sum(max(0, ends[p] - c) for p, c in zip(self.partitions, committed, strict=True))


@asynccontextmanager
async def committed_offsets(
    bootstrap_servers: str, group: str, topic_name: str
) -> AsyncIterator[_GroupOffsets]:
    """Reads how far `group` has committed on a topic, without joining the group (the consumer
    never subscribes, so it takes no partitions from the service)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic_name, p) for p in range(topic(topic_name).partitions)]
        yield _GroupOffsets(consumer, partitions)
    finally:
        await consumer.stop()


async def until_done(
    done: Callable[[], Awaitable[int]], total: int, progress: Progress, task: TaskID
) -> float:
    """Polls `done` until it reaches `total`, and returns when it did (perf_counter); gives up
    when it has not moved for STALL_SECONDS."""
    last, moved_at = -1, time.perf_counter()
    while True:
        count = await done()
        now = time.perf_counter()
        progress.update(task, completed=min(count, total))
        if count >= total:
            return now
        if count != last:
            last, moved_at = count, now
        elif now - moved_at > STALL_SECONDS:
            raise TimeoutError(f"stuck at {count} of {total} for {STALL_SECONDS} s")
        await asyncio.sleep(POLL_SECONDS)
