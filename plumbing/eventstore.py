"""The base of each service's eventsourcing Application, and the one hop into it."""

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar, ParamSpec, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    ProcessRecorder,
    Tracking,
    Transcoding,
)
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import sql

from plumbing import chain
from plumbing.errors import NotFound
from plumbing.settings import Settings
from schemas.envelope import Envelope

P = ParamSpec("P")
R = TypeVar("R")


@dataclasses.dataclass(frozen=True)
class Trace:
    """Who caused an event, and the thread of work it belongs to."""

    actor: str
    correlation_id: UUID
    causation_id: UUID | None = None

    @classmethod
    def caused_by(cls, envelope: Envelope, actor: str | None = None) -> "Trace":
        """The trace of work done in reaction to `envelope`: by `actor`, or by its own actor."""
        return cls(actor or envelope.actor, envelope.correlation_id, envelope.event_id)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def dataclass_transcoding(cls: type) -> Transcoding:
    """A transcoding for a flat frozen dataclass value; nested values are transcoded in turn."""
    names = [field.name for field in dataclasses.fields(cls)]

    class _AsDict(Transcoding):
        type = cls
        name = cls.__qualname__

        def encode(self, obj: Any) -> dict[str, Any]:
            return {n: getattr(obj, n) for n in names}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**data)

    return _AsDict()


class EventSourcedService(Application[UUID]):
    """One per bounded context. Events live in the service's own PostgreSQL schema."""

    value_types: ClassVar[tuple[type, ...]] = ()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        create_schema(settings, self.name)
        super().__init__(env=settings.postgres_env(schema=self.name))
        with self.process_recorder.datastore.transaction(commit=True) as cursor:
            chain.install(cursor, self.name, self.process_recorder.events_table_name)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        for value_type in (Trace, *self.value_types):
            transcoder.register(dataclass_transcoding(value_type))

    @property
    def process_recorder(self) -> PostgresProcessRecorder:
        assert isinstance(self.recorder, PostgresProcessRecorder)
        return self.recorder

    def load(self, aggregate_id: UUID, missing: NotFound | None = None) -> Any:
        """The aggregate with this id, or `missing` raised (naming the id by default)."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing or NotFound(f"nothing has id {aggregate_id}") from None

    def save_new(self, aggregate: Any, *others: Any) -> None:
        """Save a new aggregate whose id derives from a business key, with what changed beside
        it; when the same key was saved concurrently, the first one stands and this is a no-op."""
        try:
            self.save(aggregate, *others)
        except IntegrityError:
            if aggregate.id not in self.repository:
                raise

    def already_processed(self, upstream: str, sequence: int | None) -> bool:
        """Whether this exact upstream position is recorded. Partitions interleave an upstream
        log, so a later position may be recorded before an earlier one: no max() here."""
        if sequence is None:
            return False
        recorder = self.process_recorder
        statement = sql.SQL(
            "SELECT 1 FROM {}.{} WHERE application_name = %s AND notification_id = %s"
        ).format(sql.Identifier(self.name), sql.Identifier(recorder.tracking_table_name))
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (upstream, sequence))
            return cursor.fetchone() is not None

    def save_processed(self, *aggregates: Any, upstream: str, sequence: int | None) -> None:
        """Save aggregates with the upstream position they react to, in one transaction.

        A redelivered upstream event fails the tracking insert and changes nothing.
        """
        tracking = Tracking(upstream, sequence) if sequence is not None else None
        processing_event = ProcessingEvent[UUID](tracking=tracking)
        processing_event.collect_events(*aggregates)
        try:
            recordings = self._record(processing_event)  # as the library's own processes do
        except IntegrityError:
            if not self.already_processed(upstream, sequence):
                raise
            return
        self._take_snapshots(processing_event)
        self._notify(recordings)


def connect(settings: Settings) -> psycopg.Connection[Any]:
    """A connection of its own (autocommit), outside the event store's pool."""
    env = settings.postgres_env("public")
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        autocommit=True,
    )


def create_schema(settings: Settings, schema: str) -> None:
    with connect(settings) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


CONFLICT_ATTEMPTS = 3


async def hop(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """The single hop from async edges into the synchronous event store.

    A command that lost a race to change the same aggregate (optimistic concurrency: another
    request, a timer or a policy saved it first) is run again on the fresh state; each
    service method loads, decides and saves, so running it again is safe."""
    for _ in range(CONFLICT_ATTEMPTS - 1):
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except IntegrityError:
            continue
    return await asyncio.to_thread(function, *args, **kwargs)
