"""The order gate: each aggregate's events are taken in the order their producer stored them.

Kafka keeps the order of one key on one topic, and the relay sends an aggregate's messages one
after another; yet a message can still reach a consumer ahead of its predecessor. A relay that
was sending when the broker died carries on into the broker that replaced it (the same
address, an empty log) before it notices the new cluster, and its replay of the whole history
lands behind that. So every message names the one before it in its stream (its
`previous_sequence`: the same aggregate on the same topic), and each consumer keeps the last
position it has taken of each stream. A message whose predecessor it has not taken is held
back, not applied: the producer sends everything again, in order, to a new cluster (and a
batch again after any failure), so nothing held back is lost. A position at or before the
last one taken is a copy and is passed over.

Only the services' own topics are ordered. A district system's message is no position in a
log of ours, so one that names a position is dead-lettered, as is a service's event that names
none (it could not be taken exactly once). A message dead-lettered takes its position all the
same (read from its envelope's fields alone, when the rest is not valid): it has been dealt
with, so the messages after it are taken and its copies are passed over, not dead-lettered
again. A dead letter re-driven to its consumer is taken as it comes (`plumbing.deadletters`).

The last positions are written in the transaction that applies the batch's effects, or
after it (and after the dead letters of a batch that has some: a batch that comes again must
dead-letter them again). A crash between the two leaves them behind, and the batch, which
comes again, is taken again (its effects are idempotent); never ahead, which would pass over
what was not applied.
"""

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Protocol
from uuid import UUID

import asyncpg
from pydantic import ConfigDict, Field, ValidationError

from schemas.envelope import BIGINT, Contract, Envelope
from schemas.topics import Topic

Stream = tuple[str, str, UUID]  # producer, topic, aggregate


class Arrival(Enum):
    TAKE = "take"
    COPY = "copy"  # at or before the last position taken of its stream
    EARLY = "early"  # its predecessor has not been taken: held back


class Placed(Protocol):
    """What places a message in its stream: its envelope's fields."""

    @property
    def producer(self) -> str: ...
    @property
    def aggregate_id(self) -> UUID: ...
    @property
    def sequence(self) -> int | None: ...
    @property
    def previous_sequence(self) -> int | None: ...


class Place(Contract):
    """The fields that place a message, read from one that is not a valid envelope (the rest
    of it ignored)."""

    model_config = ConfigDict(extra="ignore")

    producer: str
    aggregate_id: UUID
    sequence: int | None = Field(default=None, ge=1, le=BIGINT)
    previous_sequence: int | None = Field(default=None, ge=0, le=BIGINT)


def place_of(raw: bytes) -> Place | None:
    """Where a message that is not a valid envelope stands, if its envelope's fields say."""
    try:
        return Place.model_validate_json(raw)
    except ValidationError:
        return None


def misnumbered(topic: Topic, envelope: Envelope) -> str | None:
    """How a message breaks its topic's rule for positions, if it does (for its dead letter)."""
    if not topic.from_districts:
        if envelope.sequence is None:
            return "sequence: Field required on a service's topic (each event is taken once by it)"
        return None
    for name in ("sequence", "previous_sequence"):
        if getattr(envelope, name) is not None:
            return f"{name}: not allowed on a district topic (district systems send no position)"
    return None


def stream_of(topic: Topic, message: Placed) -> Stream | None:
    """The stream a message is ordered in; None for one that names no position, and on a
    district topic."""
    if topic.from_districts or message.sequence is None:
        return None
    return message.producer, topic.name, message.aggregate_id


def sort(
    arrivals: Sequence[tuple[Topic, Placed | None]], last: Mapping[Stream, int]
) -> tuple[list[Arrival], dict[Stream, int]]:
    """What to do with each message of a batch, in order (None: one taken as it comes), given
    the last position taken of each stream (none: 0); and the last positions of the streams
    the batch moves on, once its messages to take are taken. A message published before
    messages named their predecessor moves its stream on."""
    moved: dict[Stream, int] = {}
    verdicts = []
    for topic, message in arrivals:
        stream = None if message is None else stream_of(topic, message)
        if message is None or stream is None or message.sequence is None:
            verdicts.append(Arrival.TAKE)
            continue
        taken = moved.get(stream) or last.get(stream, 0)
        previous = message.previous_sequence
        if message.sequence <= taken:
            verdicts.append(Arrival.COPY)
        elif previous is None or previous <= taken:
            verdicts.append(Arrival.TAKE)
            moved[stream] = message.sequence
        else:
            verdicts.append(Arrival.EARLY)
    return verdicts, moved


def upsert(table: str, *placeholders: str) -> str:
    """The statement that records last positions (never moving one back), in a driver's
    placeholders for the columns of `columns`."""
    producers, topics, aggregates, sequences = placeholders
    return f"""INSERT INTO {table} AS a SELECT * FROM
        unnest({producers}::text[], {topics}::text[], {aggregates}::uuid[], {sequences}::bigint[])
        ON CONFLICT (producer, topic, aggregate_id)
        DO UPDATE SET sequence = greatest(a.sequence, excluded.sequence)"""


def columns(last: Mapping[Stream, int]) -> tuple[list[str], list[str], list[UUID], list[int]]:
    streams = list(last)
    return (
        [producer for producer, _, _ in streams],
        [topic for _, topic, _ in streams],
        [aggregate for _, _, aggregate in streams],
        [last[stream] for stream in streams],
    )


def table_of(service: str) -> str:
    return f'"{service}".arrivals'


class Arrivals:
    """A consumer's last position taken of each stream, in its service's schema, and those
    this process has read or recorded, so that a batch in order costs no read.

    What this process knows may be behind (a replica took a stream meanwhile), never ahead: a
    position is known once recorded. Behind, a copy may be taken again, which its effects
    drop; a message that looks early by what is known is judged again by what is recorded."""

    KNOWN_AT_MOST = 200_000  # streams kept in memory; past it they are read again as needed

    def __init__(self, pool: asyncpg.Pool, service: str) -> None:
        self.pool = pool
        self.table = table_of(service)
        self._known: dict[Stream, int] = {}

    async def setup(self) -> None:
        await self.pool.execute(
            f"""CREATE TABLE IF NOT EXISTS {self.table} (
                producer text NOT NULL,
                topic text NOT NULL,
                aggregate_id uuid NOT NULL,
                sequence bigint NOT NULL,
                PRIMARY KEY (producer, topic, aggregate_id)
            )"""
        )

    async def sort(
        self, arrivals: Sequence[tuple[Topic, Placed | None]]
    ) -> tuple[list[Arrival], dict[Stream, int]]:
        """`sort` by what this process knows; where that finds a message early, by what is
        recorded. Returns the verdicts and the last positions that the batch moves on."""
        verdicts, last = sort(arrivals, self._known)
        early = {
            stream
            for (topic, message), verdict in zip(arrivals, verdicts, strict=True)
            if verdict is Arrival.EARLY and message and (stream := stream_of(topic, message))
        }
        if early:
            self.learn(await self._recorded(early))
            verdicts, last = sort(arrivals, self._known)
        return verdicts, last

    def last_taken(self, topic: Topic, message: Placed) -> int | None:
        stream = stream_of(topic, message)
        return None if stream is None else self._known.get(stream)

    def learn(self, last: dict[Stream, int]) -> None:
        """Know these positions as recorded (only once they are)."""
        if len(self._known) + len(last) > self.KNOWN_AT_MOST:
            self._known.clear()
        for stream, sequence in last.items():
            self._known[stream] = max(sequence, self._known.get(stream, 0))

    async def _recorded(self, streams: Iterable[Stream]) -> dict[Stream, int]:
        wanted = list(set(streams))
        if not wanted:
            return {}
        producers, topics, aggregates = zip(*wanted, strict=True)
        rows = await self.pool.fetch(
            f"""SELECT a.producer, a.topic, a.aggregate_id, a.sequence FROM {self.table} a
                JOIN unnest($1::text[], $2::text[], $3::uuid[]) AS w(producer, topic, aggregate_id)
                USING (producer, topic, aggregate_id)""",
            producers,
            topics,
            aggregates,
        )
        return {(r["producer"], r["topic"], r["aggregate_id"]): r["sequence"] for r in rows}

    async def record(self, last: dict[Stream, int]) -> None:
        """Record these as the last positions taken (never moving one back)."""
        await self.write(last)
        self.learn(last)

    async def write(self, last: dict[Stream, int], into: asyncpg.Connection | None = None) -> None:
        """Write these last positions, `into` a transaction of the caller's if given (who
        must `learn` them once it has committed)."""
        if not last:
            return
        await (into or self.pool).execute(
            upsert(self.table, "$1", "$2", "$3", "$4"), *columns(last)
        )
