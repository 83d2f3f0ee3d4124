"""The one consumer pattern: take what a fetch returns as a batch, parse each envelope, run
the policies of the whole batch in one hop into the service (or await a read model's batch
handler), dead-letter what fails, then commit the batch's offsets once.

Transient failures (database or broker unavailable) are raised, so the batch is not
committed and comes again (every policy is idempotent); bad input and rejected commands go
to the dead-letter path and the rest of the batch is applied.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, compress
from typing import Any, TypeVar, cast

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka import Topic as KafkaTopic
from faststream.message import StreamMessage
from pydantic import ValidationError

from plumbing.arrivals import Arrival, Arrivals, Placed, Stream, misnumbered, place_of
from plumbing.deadletters import REDRIVEN, DeadLetters
from plumbing.eventstore import Policy, hop
from plumbing.metrics import HELD_BACK
from plumbing.personal import SEALED_BYTES, PersonalData
from schemas.envelope import Envelope
from schemas.refusals import CommandRejected
from schemas.topics import Topic, topic_of

log = structlog.get_logger()
E = TypeVar("E", bound=Envelope)
# Runs each policy on its event, in order; returns the rejected events with the reason, and
# whether it wrote the last positions it was given with the policies' effects.
Rejected = list[tuple[Envelope, str]]
Runner = Callable[[Sequence[tuple[Policy, Envelope]], Mapping[Stream, int]], tuple[Rejected, bool]]
# Writes what else a batch records into the handler's transaction (a connection of its pool).
Within = Callable[[asyncpg.Connection], Awaitable[None]]
BatchHandler = Callable[[list[Envelope], Within], Awaitable[None]]


def describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'message'}: {e['msg']}"
        for e in error.errors()
    )


def one_at_a_time(
    work: Sequence[tuple[Policy, Envelope]], arrivals: Mapping[Stream, int]
) -> tuple[Rejected, bool]:
    """The runner for policies that keep no store of their own (nor positions)."""
    rejected = []
    for policy, envelope in work:
        try:
            policy(envelope)
        except CommandRejected as rejection:
            rejected.append((envelope, str(rejection)))
    return rejected, False


@dataclass(frozen=True)
class Fetching:
    """How a consumer fetches: the broker answers a fetch as soon as it has data or after
    `fetch_max_wait_ms`; a batch holds at most `max_records`, taken as soon as fetches bring
    anything; the consumer waits at most `poll_ms` for them before it looks again."""

    fetch_max_wait_ms: int = 50
    max_records: int = 500
    poll_ms: int = 50


def consumer_group(service: str, cluster_id: str) -> str:
    """A service's consumer group on a Kafka cluster. Offsets are of one cluster's partitions:
    a consumer that carried on into a new cluster (one that lost its data) would commit the old
    one's positions there and skip what the new one holds, so each cluster has its own group,
    which starts from the beginning (and consumers drop what they have already applied)."""
    return f"{service}@{cluster_id}"


async def _nothing_else(connection: asyncpg.Connection) -> None:
    return None


async def _raw_bodies(message: StreamMessage[object]) -> object:
    return message.body


class Consumers:
    """A service's one consumer: its policies, registered one event type at a time, under the
    service's consumer group. Events of other types on the same topics are passed over. Given
    `personal`, events reach the policies with their personal fields opened; read models'
    batch handlers get them as they came (sealed). Given `arrivals`, each aggregate's events
    are taken in their producer's order (see `plumbing.arrivals`); without, as they come (a
    single handler under test)."""

    def __init__(
        self,
        broker: KafkaBroker,
        group: str,
        dead_letters: DeadLetters,
        run: Runner = one_at_a_time,
        fetching: Fetching = Fetching(),
        personal: PersonalData | None = None,
        arrivals: Arrivals | None = None,
    ) -> None:
        self.broker = broker
        self.arrivals = arrivals
        self.group = group
        self.dead_letters = dead_letters
        self.run = run
        self.fetching = fetching
        self.personal = personal
        self._policies: dict[type[Envelope], Policy] = {}
        self._handlers: dict[type[Envelope], BatchHandler] = {}
        self._taken_names: set[str] = set()  # the types of both, as event headers name them
        self._topics: dict[str, Topic] = {}
        self._subscriber: Any = None

    def on(self, event_type: type[E], policy: Callable[[E], object]) -> None:
        """Run `policy` (synchronous; it may use the service's store) on each event."""
        self._listen(event_type)
        self._policies[event_type] = policy

    def on_batch(self, event_types: Iterable[type[Envelope]], handler: BatchHandler) -> None:
        """Await `handler` once per fetched batch with its events of these types, in order,
        and with what it must call in the transaction that applies them (`Within`)."""
        for event_type in event_types:
            self._listen(event_type)
            self._handlers[event_type] = handler

    def _listen(self, event_type: type[Envelope]) -> None:
        self._taken_names.add(event_type.type_name())
        source = topic_of(event_type)
        self._topics[source.name] = source

    def subscribe(self) -> None:
        """Declare the single subscriber for every topic a policy listens to."""
        if not self._topics:
            return
        # the topics are made as declared (`apply_topics`), not by the subscriber: its own, of
        # one partition, made on a broker that came up empty before they were declared, left
        # the relays' sends to the others acknowledged by the embedded broker and dropped
        self._subscriber = self.broker.subscriber(
            *(KafkaTopic(name, declare=False) for name in self._topics),
            batch=True,
            max_records=self.fetching.max_records,
            batch_timeout_ms=self.fetching.poll_ms,
            fetch_max_wait_ms=self.fetching.fetch_max_wait_ms,
            group_id=self.group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            decoder=_raw_bodies,
            title=f"{self.group}-policies",
            description=f"The {self.group} service's policies.",
        )
        self._subscriber.get_msg = self._fetched
        self._subscriber(self._consume)

    async def _fetched(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        """What the next fetches bring, as soon as they bring anything (waiting at most
        `poll_ms`). faststream's own batch subscriber then sleeps `poll_ms` after a wait that
        brought nothing, so an event that arrived in that sleep waited for it: half the poll
        on average, a third of a lone alert's time at the default 50 ms.

        With no partitions assigned (rejoining a group, on a broker that replaced one that
        died) the consumer answers at once, empty, without giving the event loop a turn: the
        rest of the poll is waited out then, or the loop spun and the service stopped."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        fetched = await consumer.getmany(
            timeout_ms=self.fetching.poll_ms, max_records=self.fetching.max_records
        )
        if not fetched:
            await asyncio.sleep(max(0.0, self.fetching.poll_ms / 1000 - (loop.time() - began)))
        return tuple(chain.from_iterable(fetched.values()))

    @property
    def consuming(self) -> bool:
        """Whether the consumer is taking messages (with nothing to consume, it is): a rejoin
        that failed part-way leaves it stopped until the move is made again, and readiness
        says so (it had said ready, from the stopped consumer it still held)."""
        if self._subscriber is None:
            return True
        return bool(self._subscriber.running) and self.consumer() is not None

    async def rejoin(self, group: str) -> None:
        """Consume as `group` from now on (the group of a new cluster: see `consumer_group`)."""
        if self._subscriber is not None:
            await self._subscriber.stop()
            self.group = self._subscriber.group_id = group
            await self._subscriber.start()

    def consumer(self) -> AIOKafkaConsumer | None:
        """The running Kafka consumer, if any (for readiness and lag)."""
        return getattr(self._subscriber, "consumer", None)

    async def _consume(self, bodies: list[bytes], message: KafkaMessage) -> None:
        """Effects first (one transaction), then the dead letters, then the offsets: a batch
        that fails half-way comes again whole, and its effects are not applied twice."""
        started = time.perf_counter()
        records = cast(tuple[ConsumerRecord, ...], message.raw_message)
        work: list[tuple[Policy, Envelope]] = []
        batches: dict[BatchHandler, list[Envelope]] = {}
        origin: dict[int, ConsumerRecord] = {}
        # only the events acted on are opened; opening may read keys from the key store, so
        # a batch with anything to open is parsed off the event loop
        opens = [self.personal is not None and self._takes(record) for record in records]
        opening = any(SEALED_BYTES in (r.value or b"") for r in compress(records, opens))
        parse = self._parse_all
        parsed = await hop(parse, records, opens) if opening else parse(records, opens)
        kept, last = await self._in_order(parsed)
        refused = [(record, why) for record, why in kept if isinstance(why, str)]
        taken = [(record, envelope) for record, envelope in kept if not isinstance(envelope, str)]
        for record, envelope in taken:
            origin[id(envelope)] = record
            if (policy := self._policies.get(type(envelope))) is not None:
                work.append((policy, envelope))
            elif (handler := self._handlers.get(type(envelope))) is not None:
                batches.setdefault(handler, []).append(envelope)
        # the positions taken go in the transaction that applies the batch (the handlers'
        # `Within`, or the policies') unless a message was refused: its dead letter must be
        # written first (see `plumbing.arrivals`); else on their own, after the dead letters
        rejected: Rejected = []
        written = False
        if work:
            alone = not batches and not refused
            rejected, written = await hop(self.run, work, last if alone else {})
        within = self._positions_within(last) if batches and not work and not refused else None
        for handler, envelopes in batches.items():
            await handler(envelopes, within or _nothing_else)
        refused += [(origin[id(e)], f"{e.event_type} rejected: {why}") for e, why in rejected]
        for record, reason in refused:
            await self._dead_letter(record, reason)
        if self.arrivals is not None:
            if written or within is not None:
                self.arrivals.learn(last)
            else:
                await self.arrivals.record(last)
        self._log(work, batches, started)

    def _positions_within(self, last: dict[Any, int]) -> Within | None:
        arrivals = self.arrivals
        if arrivals is None or not last:
            return None

        async def write(connection: asyncpg.Connection) -> None:
            await arrivals.write(last, into=connection)

        return write

    async def _in_order(
        self, parsed: list[tuple[ConsumerRecord, Envelope | str]]
    ) -> tuple[list[tuple[ConsumerRecord, Envelope | str]], dict[Any, int]]:
        """The messages to take, or to dead-letter (with why), in order, and the last positions
        once they are: a message that breaks its topic's rule for positions is refused, copies
        of what was taken or dead-lettered before are passed over, and a message ahead of its
        predecessor is held back (see `plumbing.arrivals`)."""
        if self.arrivals is None:
            return parsed, {}
        judged: list[tuple[ConsumerRecord, Envelope | str]] = []
        places: list[tuple[Topic, Placed | None]] = []
        for record, outcome in parsed:
            source = self._topics[record.topic]
            why = misnumbered(source, outcome) if isinstance(outcome, Envelope) else None
            judged.append((record, f"invalid {source.name} message: {why}" if why else outcome))
            places.append((source, self._place(record, outcome)))
        verdicts, last = await self.arrivals.sort(places)
        kept = []
        for (record, outcome), (source, place), verdict in zip(
            judged, places, verdicts, strict=True
        ):
            if verdict is Arrival.TAKE:
                kept.append((record, outcome))
            elif verdict is Arrival.EARLY and place is not None:
                HELD_BACK.labels(self.dead_letters.service, place.producer).inc()
                log.warning(
                    "event held back: it arrived before its predecessor",
                    topic=source.name,
                    event_type=getattr(outcome, "event_type", None),
                    producer=place.producer,
                    aggregate_id=str(place.aggregate_id),
                    sequence=place.sequence,
                    previous_sequence=place.previous_sequence,
                    last_taken=self.arrivals.last_taken(source, place),
                )
        return kept, last

    def _place(self, record: ConsumerRecord, outcome: Envelope | str) -> Placed | None:
        """Where the gate places a message: by its envelope, valid or not; nowhere (taken as it
        comes) when it is a dead letter of this consumer's re-driven to it."""
        if (REDRIVEN, self.dead_letters.service.encode()) in (record.headers or ()):
            return None
        return outcome if isinstance(outcome, Envelope) else place_of(record.value or b"")

    def _takes(self, record: ConsumerRecord) -> bool:
        """Whether the record is an event this consumer acts on, by the type its header names
        (one without the header may be any)."""
        named = dict(record.headers or ()).get("event_type")
        return named is None or named.decode(errors="replace") in self._taken_names

    def _parse_all(
        self, records: Sequence[ConsumerRecord], opens: Sequence[bool]
    ) -> list[tuple[ConsumerRecord, Envelope | str]]:
        """Each record's envelope, or why it is not one; those it `opens` with their personal
        fields opened. The others on the consumer's topics are parsed as they came, sealed,
        for the order of their streams (see `plumbing.arrivals`), and passed over."""
        parsed: list[tuple[ConsumerRecord, Envelope | str]] = []
        opener = None
        if self.personal is not None:
            self.personal.prepare(record.value or b"" for record in compress(records, opens))
            opener = self.personal.open_json
        for record, opened in zip(records, opens, strict=True):
            source, raw = self._topics[record.topic], record.value or b""
            try:
                envelope = source.parse(raw, opener if opened else None)
                if opener and not opened and envelope.event_type in self._taken_names:
                    envelope = source.parse(raw, opener)  # its header named another type
                parsed.append((record, envelope))
            except ValidationError as error:
                parsed.append((record, f"invalid {source.name} message: {describe(error)}"))
        return parsed

    @staticmethod
    def _log(
        work: list[tuple[Policy, Envelope]],
        batches: dict[BatchHandler, list[Envelope]],
        started: float,
    ) -> None:
        handled = [envelope for _, envelope in work]
        handled += [envelope for envelopes in batches.values() for envelope in envelopes]
        if not handled:
            return
        # one line a batch, naming every event it handled (a line an event was a tenth of the
        # CPU of a bulk intake)
        log.info(
            "batch handled",
            events=dict(Counter(e.event_type for e in handled)),
            event_ids=[str(e.event_id) for e in handled],
            correlation_ids=sorted({str(e.correlation_id) for e in handled}),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        dead_letter_id = await self.dead_letters.record(record, reason)
        log.warning("message dead-lettered", reason=reason, dead_letter_id=dead_letter_id)
