"""The outbox relay: a service's events reach Kafka only from its own outbox, in batches."""

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Tracking

from plumbing.eventstore import EventSourcedService
from plumbing.follower import Follower
from plumbing.outbox import Message
from plumbing.publishing import BATCH_BYTES, publish_in_order
from plumbing.settings import Settings
from plumbing.topics_admin import apply_topics, cluster_id

log = structlog.get_logger()

Publish = Callable[[Sequence[Message]], None]
R = TypeVar("R")

# Set to "relay:published" (tests only), the process dies after publishing a batch and before
# recording its position: the crash the relay's guarantees are proved against.
FAILPOINT = "CIVIL_ORDERS_FAILPOINT"
SETTING_UP_SECONDS = 60.0  # the most a move to a new cluster may take (a relay page: 30 s)


class RelayProducer:
    """The relay's Kafka producer, on an event loop of its own, in a thread of its own.

    On the service's own loop, every send of a page and every acknowledgement from the
    broker waited in line behind the HTTP requests and the consumer's work: at 16 cases in
    flight the application service's relay took 116 ms to publish a page at the 90th
    percentile (55 on a loop of its own), where the broker alone takes a few; an alert
    waited for it.

    It sends batches it builds itself (see `plumbing.publishing`); `publish` blocks, for the
    relay's thread. A page that fails part-way comes again whole, and consumers drop the
    copies."""

    def __init__(self, settings: Settings, client_id: str, timeout: float = 30.0) -> None:
        self.settings = settings
        self.client_id = client_id
        self.timeout = timeout
        # made as it starts: a process whose relay never starts (it has no store) has none
        self._running: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name=f"{self.client_id}-relay-loop", daemon=True
        )
        thread.start()
        self._running = loop, thread

        async def started() -> AIOKafkaProducer:  # (a producer belongs to the loop it is made on)
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                client_id=f"{self.client_id}-relay",
                acks=self.settings.producer_acks(),
                linger_ms=self.settings.kafka_linger_ms,
                enable_idempotence=self.settings.kafka_idempotence,
                max_batch_size=BATCH_BYTES,
            )
            await producer.start()
            return producer

        self._producer = await self._on_own_loop(started())

    async def stop(self) -> None:
        """Stop the producer, then its loop (one never started, or stopped, stops at once)."""
        if self._running is None:
            return
        loop, thread = self._running
        producer, self._producer = self._producer, None
        try:
            if producer is not None:
                await self._on_own_loop(producer.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            loop.close()
            self._running = None

    def publish(self, messages: Sequence[Message]) -> None:
        """Publish a page of the outbox and return once the broker has taken it all: in
        order per aggregate, a batch a partition."""
        if self._running is None or self._producer is None:
            raise RuntimeError("the relay's producer has not started")
        sending = asyncio.run_coroutine_threadsafe(
            publish_in_order(self._producer, messages), self._running[0]
        )
        try:
            sending.result(self.timeout)
        except TimeoutError:
            sending.cancel()  # nothing more of this page goes out once it is retried
            raise

    async def _on_own_loop(self, work: Coroutine[Any, Any, R]) -> R:
        assert self._running is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._running[0]))


class OutboxRelay(Follower[Message]):
    """Publishes the outbox's messages, in log order, keyed by aggregate id, a batch at a
    time, and records how far it has published: at most every `RECORD_SECONDS` while it is
    busy, and whenever it has caught up or stops (a transaction a batch had been a tenth of
    a case's). A crash in between publishes those batches again; consumers pass over the
    copies (they keep the last position they took of each aggregate).

    The position is kept per Kafka cluster id: a broker that lost its data comes back as a
    new cluster (the embedded one always does), and is sent the whole history again."""

    RECORD_SECONDS = 1.0

    def __init__(
        self, service: EventSourcedService, publish: Publish, cluster_id: str, page: int = 1000
    ) -> None:
        super().__init__(service, f"outbox:{cluster_id}", self._read, self._relay, page)
        self._publish = publish
        self._published = 0  # the last position published and not yet recorded
        self._recorded_at = time.monotonic()

    def head(self) -> int:
        return self.service.process_recorder.max_message_id()

    def _read(self, position: int, limit: int) -> list[tuple[Message, int]]:
        messages = self.service.process_recorder.select_messages(position, limit)
        return [(message, message.sequence) for message in messages]

    def _relay(self, page: Sequence[tuple[Message, int]]) -> None:
        self._publish([message for message, _ in page])
        if os.environ.get(FAILPOINT) == "relay:published":
            os._exit(70)
        self._published = page[-1][1]
        if time.monotonic() - self._recorded_at >= self.RECORD_SECONDS:
            self.settle()

    def position(self) -> int:
        return max(super().position(), self._published)

    def settle(self) -> None:
        """Record the last position published, if not yet recorded."""
        if self._published:
            self.service.process_recorder.insert_tracking(Tracking(self.name, self._published))
            self._published = 0
        self._recorded_at = time.monotonic()


async def follow_the_cluster(
    bootstrap_servers: str,
    seen: str,
    every_seconds: float,
    on_new_cluster: Callable[[str], Awaitable[None]],
) -> None:
    """Asks the broker its cluster id every so often. A cluster not seen before (a broker that
    lost its data: the embedded one after any restart, a real one after a disaster) gets the
    declared topics, then `on_new_cluster` (consumers join it afresh; the relay sends it the
    whole history again, which they take as they did the first time: once).

    Only the service's stopping ends it. A broker that died again while its consumer
    rejoined made the Kafka client raise `CancelledError` out of the move, though nothing
    had cancelled this task; the watch ended with it, and the service never followed a
    cluster again (its consumer stopped for good: a soak's cases waited for ever)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            now = await asyncio.wait_for(cluster_id(bootstrap_servers), every_seconds + 5)
        except (Exception, asyncio.CancelledError) as error:  # the broker is away; again later
            if _stopping(error):
                raise
            continue
        if now == seen:
            continue
        log.warning("the broker is a new Kafka cluster", was=seen, now=now)
        began = time.monotonic()
        try:  # a broker that goes away again mid-way must not hold this up for good
            await asyncio.wait_for(apply_topics(bootstrap_servers), SETTING_UP_SECONDS)
            await asyncio.wait_for(on_new_cluster(now), SETTING_UP_SECONDS)
        except (Exception, asyncio.CancelledError) as error:
            if _stopping(error):
                raise
            # all of it again, next time (each step may be done again)
            log.exception("could not set up the new cluster; trying again", cluster=now)
            continue
        log.info(
            "moved to the new cluster", cluster=now, seconds=round(time.monotonic() - began, 1)
        )
        seen = now


def _stopping(error: BaseException) -> bool:
    """Whether `error` is this task being cancelled (the service stopping); a `CancelledError`
    that reached it from a library's own cancelled wait is not."""
    task = asyncio.current_task()
    cancelled = isinstance(error, asyncio.CancelledError)
    return cancelled and task is not None and task.cancelling() > 0
