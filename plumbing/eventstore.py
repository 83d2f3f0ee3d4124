"""The base of each service's eventsourcing Application, and the one hop into it."""

import asyncio
import dataclasses
import itertools
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from copy import deepcopy
from datetime import date, datetime
from typing import Any, ClassVar, ParamSpec, TypeVar, cast
from uuid import UUID

import psycopg
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Cache,
    ProcessingEvent,
    Recording,
    Repository,
)
from eventsourcing.domain import CanCreateTimestamp, DomainEventProtocol
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    ProcessRecorder,
    Tracking,
    Transcoding,
)
from psycopg import sql

from plumbing import chain, outbox
from plumbing.arrivals import Stream
from plumbing.listening import listening
from plumbing.memory import InMemory, MemoryRecorder, NoSqlInMemory
from plumbing.outbox import OutboxRecorder
from plumbing.personal import (
    NOTHING_PERSONAL,
    PersonalData,
    PersonalDataErased,
    PersonalFields,
    SealingMapper,
    sealing_with,
)
from plumbing.projection import LocalProjection, send
from plumbing.settings import Settings
from schemas.envelope import Envelope
from schemas.personal import Sealer
from schemas.refusals import CommandRejected, NotFound
from schemas.trace import Trace

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")


def stamp_events_by(clock: Callable[[], datetime]) -> None:
    """Every event this process records from now on is stamped with the time by `clock`, the
    service's one clock, as its deadlines and checks are (through the eventsourcing library's
    hook for it, on the class every event inherits it from)."""
    setattr(CanCreateTimestamp, "create_timestamp", staticmethod(clock))  # noqa: B010


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


Position = tuple[str, int]  # (upstream, sequence)
Policy = Callable[[Any], object]


class UnitOfWork:
    """What the policies of one batch of upstream events changed, saved at the end in one
    transaction with every upstream position. Aggregates loaded in the batch are kept, so a
    later event of the batch sees what an earlier one changed."""

    def __init__(self, batch: set[Position]) -> None:
        self.batch = batch
        self.processed: set[Position] = set()  # of the batch's positions, those it recorded
        self.loaded: dict[UUID, Any] = {}
        self.absent: set[UUID] = set()  # known not to exist before the batch
        self.memo: dict[str, Any] = {}
        self.changes: ProcessingEvent[UUID] = ProcessingEvent()
        self.trackings: list[Tracking] = []

    def collect(self, aggregates: Sequence[Any], position: Position | None = None) -> None:
        """What these aggregates recorded, as the library's `collect_events` collects an
        aggregate's (whose protocol checks were a tenth of a screening batch)."""
        for aggregate in aggregates:
            self.changes.events.extend(aggregate.collect_events())
            self.changes.aggregates[aggregate.id] = aggregate
            self.loaded[aggregate.id] = aggregate
        if position is not None:
            self.trackings.append(Tracking(*position))
            self.processed.add(position)

    def dirty(self) -> bool:
        """Whether a loaded aggregate holds changes nobody saved (a policy that failed)."""
        return any(aggregate.pending_events for aggregate in self.loaded.values())


class Rollback(Exception):
    """A unit of work that cannot be committed as a whole."""


class RecentAggregates(Cache[UUID, Any]):
    """The aggregates a service loaded or saved lately, for the library's repository to bring
    up to date with one read of their newer events (not a read of the snapshot and one of the
    events since), and to make an older version of without reading it all again. At most
    `size`, the least lately used dropped first, each for `seconds` at most; all of them
    dropped when a person's key is destroyed, since they hold opened personal data (the same
    time limit as opened keys, should the news of one be missed).

    What is kept is never changed: each get hands out a copy, which the repository brings up
    to date and the caller may change, and each put keeps a copy; only `keep` and
    `get(evict=True)` hand an aggregate over as it is (a unit of work's, which nobody else
    holds).

    While a save of an aggregate is under way (`saving`, until `saved`), it is handed out by
    nobody and nothing read of it is kept: the save is in the store, and heard of, a moment
    before its thread keeps what it saved, and in that moment another thread (the alert
    dispatcher, woken by the save) was handed the version before it."""

    def __init__(
        self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.size = size
        self.seconds = seconds
        self.clock = clock
        self.kept: OrderedDict[UUID, tuple[float, Any]] = OrderedDict()
        self.being_saved: Counter[UUID] = Counter()
        self.lock = threading.Lock()

    def get(self, key: UUID, *, evict: bool = False) -> Any:
        """A copy of the aggregate kept; with `evict`, the one kept, which is kept no more."""
        with self.lock:
            if key in self.being_saved:
                raise KeyError(key)
            loaded_at, aggregate = self.kept.pop(key) if evict else self.kept[key]
            if self.clock() - loaded_at > self.seconds:
                self.kept.pop(key, None)
                raise KeyError(key)
            if evict:
                return aggregate
            self.kept.move_to_end(key)
        return deepcopy(aggregate)

    def put(self, key: UUID, value: Any) -> None:
        if value is not None:
            self.keep(key, deepcopy(value))

    def keep(self, key: UUID, value: Any) -> None:
        """Keep this aggregate as it is: the caller no longer changes it. Never an older
        version over a newer one (a load that read the store just before another thread
        saved, putting what it read): what is kept is handed out without reading again."""
        with self.lock:
            kept = self.kept.get(key)
            if key in self.being_saved or (kept is not None and kept[1].version > value.version):
                return
            self.kept[key] = (self.clock(), value)
            self.kept.move_to_end(key)
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)

    def saving(self, keys: Iterable[UUID]) -> None:
        """These aggregates are being saved: what is kept of them is dropped, and until
        `saved`, none is handed out or kept."""
        with self.lock:
            for key in keys:
                self.kept.pop(key, None)
                self.being_saved[key] += 1

    def saved(self, keys: Iterable[UUID]) -> None:
        """The save of these aggregates is over, done or failed."""
        with self.lock:
            self.being_saved.subtract(keys)
            self.being_saved = +self.being_saved  # (drops the zeros)

    def clear(self) -> None:
        with self.lock:
            self.kept.clear()


class BatchRepository(Repository[UUID]):
    """The library's repository, which inside a unit of work hands out the unit's own copy
    of each aggregate (the latest version only), and makes an older version from the one
    kept in memory where that is no newer (reading only the events in between)."""

    def __init__(self, units: threading.local, recent: RecentAggregates, **kwargs: Any) -> None:
        super().__init__(deepcopy_from_cache=False, **kwargs)  # the cache hands out copies
        self.cache = self.recent = recent  # what it hands out is brought up to date
        self.units = units

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if version is not None:
            return self._as_at(aggregate_id, version, **kwargs)
        unit: UnitOfWork | None = getattr(self.units, "current", None)
        if unit is None:
            return super().get(aggregate_id, **kwargs)
        if aggregate_id not in unit.loaded:
            if aggregate_id in unit.absent:
                raise AggregateNotFoundError(aggregate_id)
            unit.loaded[aggregate_id] = super().get(aggregate_id, **kwargs)
        return unit.loaded[aggregate_id]

    def _reconstruct_aggregate(
        self, aggregate_id: UUID, version: int | None, projector_func: Any
    ) -> Any:
        """The library's, but the newest snapshot and the events after it are read in one
        statement (the library reads them in two)."""
        if version is not None or self.snapshot_store is None:
            return super()._reconstruct_aggregate(aggregate_id, version, projector_func)
        recorder = cast(OutboxRecorder, self.event_store.recorder)
        stored = recorder.select_latest({aggregate_id: 0}, self.snapshots_table)
        aggregate = projector_func(None, self.mapper.to_domain_events(stored))
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    @property
    def mapper(self) -> SealingMapper:
        return cast(SealingMapper, self.event_store.mapper)

    @property
    def snapshots_table(self) -> str | None:
        if self.snapshot_store is None:
            return None
        return cast(str, cast(Any, self.snapshot_store.recorder).events_table_name)

    def take_latest(self, aggregate_ids: set[UUID]) -> dict[UUID, Any]:
        """Those of these aggregates that exist, as they stand, in one read, for a unit of work
        to own: each one kept in memory taken out of it and brought up to date with the
        events stored since, the others made from their newest snapshot and the events after
        it."""
        latest: dict[UUID, Any] = {}
        for aggregate_id in aggregate_ids:
            with suppress(KeyError):
                latest[aggregate_id] = self.recent.get(aggregate_id, evict=True)
        after = {i: latest[i].version if i in latest else 0 for i in aggregate_ids}
        recorder = cast(OutboxRecorder, self.event_store.recorder)
        stored = recorder.select_latest(after, self.snapshots_table)
        for event in self.mapper.to_domain_events(stored):
            latest[event.originator_id] = event.mutate(latest.get(event.originator_id))
        return {i: aggregate for i, aggregate in latest.items() if aggregate is not None}

    def _as_at(self, aggregate_id: UUID, version: int, **kwargs: Any) -> Any:
        try:
            aggregate = self.recent.get(aggregate_id)
        except KeyError:
            aggregate = None
        if aggregate is None or aggregate.version > version:
            return super().get(aggregate_id, version=version, **kwargs)
        if aggregate.version < version:
            later = self.event_store.get(aggregate_id, gt=aggregate.version, lte=version)
            for event in later:
                aggregate = cast(Any, event).mutate(aggregate)
        return aggregate


class EventSourcedService(Application[UUID]):
    """One per bounded context. Events live in the service's own PostgreSQL schema, each
    with its wire message (made by the maker `wire` names for its type) in the outbox beside
    them; their personal fields (`personal_fields`) are sealed in both with the key of the
    person they are about."""

    value_types: ClassVar[tuple[type, ...]] = ()
    personal_fields: ClassVar[PersonalFields] = NOTHING_PERSONAL
    # the events others see, each type with what makes its wire event; the rest are private
    wire: ClassVar[Mapping[type, outbox.Make]] = {}

    def __init__(
        self, settings: Settings, read_only: bool = False, store: InMemory | None = None
    ) -> None:
        """Open the service's store, creating its schema, tables, hash chain and outbox; or,
        `read_only`, as an auditor reads it: nothing created (a role that may only read will
        do) and every state rebuilt from the hash-chained events alone (no snapshots); or,
        given a `store` in memory, there (see `plumbing.memory`)."""
        self.settings = settings
        keys = store.keys if store is not None else None
        self.personal = PersonalData.from_settings(settings, create=not read_only, keys=keys)
        self.projections: tuple[LocalProjection, ...] = ()
        self._units = threading.local()
        # news of the store: moves on whenever what this process read of it may be out of date
        # (see `unchanged_since`)
        self._news = itertools.count(1)
        self.news = 0
        self._remembered: set[UUID] = set()
        # every store heard, by any process, this one's own too (see `wait_for_store`)
        self.stores_heard = 0
        self._heard = threading.Condition()
        if store is not None:
            super().__init__(env=store.env)
            return
        env = settings.postgres_env(schema=self.name)
        env["PROCESS_RECORDER_TOPIC"] = f"{OutboxRecorder.__module__}:{OutboxRecorder.__name__}"
        if read_only:
            env |= {"CREATE_TABLE": "n", "POSTGRES_POOL_SIZE": "1", "IS_SNAPSHOTTING_ENABLED": "n"}
            super().__init__(env=env)
            return
        create_schema(settings, self.name)
        super().__init__(env=env)
        with self.process_recorder.datastore.transaction(commit=True) as cursor:
            chain.install(cursor, self.name, self.process_recorder.events_table_name)
        outbox.install(
            self.process_recorder,
            self.name,
            self.wire,
            self.mapper.to_domain_event,
            self.sealer_for,
        )
        self._stop_listening = threading.Event()
        url, channel = settings.database_url, self.process_recorder.channel_name
        stop = self._stop_listening
        listening(f"writes-{self.name}", url, channel, self._stored, stop, self._not_hearing)

    def _stored(self, writer: str | None) -> None:
        """Events were stored, by `writer` (None: listening has begun, and nobody knows what
        was stored before). While this process hears every store, an aggregate it keeps is as
        stored unless another process stored events since, so it is handed out as kept; a
        command decided on one another changed a moment before fails on its version, and is
        answered "try again" (the aggregate is then read afresh)."""
        if writer != self.process_recorder.writer:
            self.recent.clear()
            self.news = next(self._news)
        self.repository.fastforward = False
        with self._heard:
            self.stores_heard += 1
            self._heard.notify_all()

    def _not_hearing(self) -> None:
        """Until it hears again, each aggregate kept is brought up to date before use."""
        self.repository.fastforward = True
        self.news = next(self._news)

    @property
    def hearing(self) -> bool:
        """Whether this process is hearing every store of its log (see `_stored`)."""
        return not self.repository.fastforward

    def wait_for_store(self, seen: int, seconds: float) -> bool:
        """Whether a store has been heard since `stores_heard` was `seen`, waiting up to
        `seconds` for one. The log's followers wait so, on the one connection that listens
        for the whole process: PostgreSQL wakes every connection listening in the database at
        each NOTIFY, whatever its channel, so each connection more that listened cost every
        save of every service ~0.02 ms of the database's CPU."""
        with self._heard:
            return self._heard.wait_for(lambda: self.stores_heard != seen, seconds)

    def remember(self, aggregate_id: UUID) -> int:
        """The store's news as of now, for a reading of this aggregate about to be made and
        remembered: this process's own saves of it are news too, once committed."""
        self._remembered.add(aggregate_id)
        return self.news

    def unchanged_since(self, news: int) -> bool:
        """Whether a reading made at `news` (see `remember`) still stands: this process has
        heard every store since, and none by another process nor its own save of an aggregate
        remembered. A store in memory, or one not heard, is never taken as unchanged."""
        return self.hearing and news == self.news

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if any(r.domain_event.originator_id in self._remembered for r in recordings):
            self.news = next(self._news)

    def close(self) -> None:
        if hasattr(self, "_stop_listening"):  # (an auditor's read-only store never listens)
            self._stop_listening.set()
        super().close()
        self.personal.close()

    def construct_mapper(self) -> SealingMapper:
        return SealingMapper(self.construct_transcoder(), self.personal, self.personal_fields)

    def keys_of(self, aggregates: Mapping[UUID, Any]) -> dict[UUID, UUID]:
        """The key of the person each aggregate is about, for those that hold personal data
        (the keys of people first seen made at once)."""
        nominals = {
            aggregate_id: nominal
            for aggregate_id, aggregate in aggregates.items()
            if (nominal := self.personal_fields.nominal(type(aggregate), vars(aggregate)))
        }
        keys = self.personal.keys_for(nominals.values())
        return {aggregate_id: keys[nominal] for aggregate_id, nominal in nominals.items()}

    def sealer_for(self, aggregate: Any, event: DomainEventProtocol[UUID]) -> Sealer | None:
        """What seals the personal fields of the aggregate's wire event for `event`, made
        from the history: of a person erased since, nothing is left to seal (their fields
        read as erased), so the message goes as it reads."""
        try:
            key_id = self.keys_of({aggregate.id: aggregate}).get(aggregate.id)
        except PersonalDataErased:
            return None
        return self._sealer(key_id, event)

    def _sealer(self, key_id: UUID | None, event: DomainEventProtocol[UUID]) -> Sealer | None:
        """Sealed for the event (by its stable id), so the same message is made from the
        history again byte for byte."""
        if key_id is None:
            return None
        wire_id = outbox.event_id(event.originator_id, event.originator_version)
        return self.personal.sealer(key_id, wire_id.bytes)

    def now(self) -> datetime:
        """What time it is, by the service's one clock (see `Settings.current_time`)."""
        return self.settings.current_time()

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def construct_repository(self) -> Repository[UUID]:
        self.recent = RecentAggregates(
            self.settings.recent_aggregates, self.settings.personal_key_cache_seconds
        )
        self.personal.keys.also_forget(self.recent.clear)
        return BatchRepository(
            self._units, self.recent, event_store=self.events, snapshot_store=self.snapshots
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        for value_type in (Trace, *self.value_types):
            transcoder.register(dataclass_transcoding(value_type))

    @property
    def process_recorder(self) -> OutboxRecorder:
        if not isinstance(self.recorder, OutboxRecorder):
            raise NoSqlInMemory(self.name)
        return self.recorder

    @property
    def _unit(self) -> UnitOfWork | None:
        return getattr(self._units, "current", None)

    def once_per_batch(self, key: str, compute: Callable[[], R]) -> R:
        """`compute()`, once for a whole batch of upstream events (each time outside one):
        for what no event of a batch changes for the others, such as the configuration."""
        unit = self._unit
        if unit is None:
            return compute()
        if key not in unit.memo:
            unit.memo[key] = compute()
        return cast(R, unit.memo[key])

    def will_load(self, envelope: Envelope) -> Iterable[UUID]:
        """The aggregates a policy will load for this upstream event, read for a whole batch
        at once before its policies run (a service names them where it pays)."""
        return ()

    def _preload(self, unit: UnitOfWork, envelopes: Iterable[Envelope]) -> None:
        wanted = {i for envelope in envelopes for i in self.will_load(envelope)}
        if not wanted:
            return
        unit.loaded = cast(BatchRepository, self.repository).take_latest(wanted)
        unit.absent = wanted - unit.loaded.keys()

    def load(self, aggregate_id: UUID, missing: NotFound | None = None) -> Any:
        """The aggregate with this id, or `missing` raised (naming the id by default)."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing or NotFound(f"nothing has id {aggregate_id}") from None

    def load_or_new(self, aggregate_id: UUID, new: Callable[[], A]) -> A:
        """The aggregate with this id, or, where none is stored, the one `new` makes (for the
        caller to save)."""
        if aggregate_id in self.repository:
            return cast(A, self.repository.get(aggregate_id))
        return new()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save what changed; inside a unit of work, when the unit is committed."""
        unit = self._unit
        if unit is None:
            return super().save(*objs, **kwargs)
        unit.collect(objs)
        return []

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
        unit = self._unit
        if unit is not None and (upstream, sequence) in unit.batch:
            return (upstream, sequence) in unit.processed
        return bool(self.recorded_positions([(upstream, sequence)]))

    def recorded_positions(self, positions: Sequence[Position]) -> set[Position]:
        """Which of these upstream positions are recorded, in one read."""
        if not positions:
            return set()
        return cast(OutboxRecorder | MemoryRecorder, self.recorder).recorded_positions(positions)

    def save_processed(self, *aggregates: Any, upstream: str, sequence: int | None) -> None:
        """Save aggregates with the upstream position they react to, in one transaction.

        A redelivered upstream event fails the tracking insert and changes nothing.
        """
        unit = self._unit
        if unit is not None:
            unit.collect(aggregates, (upstream, sequence) if sequence is not None else None)
            return
        processing_event = ProcessingEvent[UUID](
            tracking=Tracking(upstream, sequence) if sequence is not None else None
        )
        processing_event.collect_events(*aggregates)
        try:
            self._write(processing_event)
        except IntegrityError:
            if not self.already_processed(upstream, sequence):
                raise

    def _write(self, processing_event: ProcessingEvent[UUID], **kwargs: Any) -> None:
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)  # as the library's own processes do
        self._take_snapshots(processing_event)
        self._notify(recordings)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Record the events with their wire messages, made from the aggregates as they stood
        just after each event (the library calls this for every save)."""
        keys = self.keys_of(processing_event.aggregates)
        wired, _ = outbox.wire_all(
            self.wire,
            self.name,
            processing_event.events,
            processing_event.aggregates,
            self._state_before,
            lambda aggregate, event: self._sealer(keys.get(aggregate.id), event),
        )
        processing_event.saved_kwargs.update(outbox=wired)
        if self.projections:
            processing_event.saved_kwargs.update(project=self._projecting(processing_event.events))
        saving = list(processing_event.aggregates)
        self.recent.saving(saving)
        try:
            with sealing_with(keys):  # the library's _record, but for the copy it would keep
                recordings = self.events.put(
                    processing_event.events,
                    tracking=processing_event.tracking,
                    **processing_event.saved_kwargs,
                )
        finally:
            self.recent.saved(saving)
        # as saved, the next read's start: a unit of work's own (it ends here), else a copy
        keep = self.recent.keep if self._unit is not None else self.recent.put
        for aggregate_id, aggregate in processing_event.aggregates.items():
            keep(aggregate_id, aggregate)
        return recordings

    def keep_projections(self, *projections: LocalProjection) -> None:
        """Apply each save's events to these read models in the transaction that stores them,
        once each has caught up with the log (see `plumbing.projection`)."""
        self.process_recorder.catch_up(projections, self.mapper.to_domain_event)
        self.projections = projections

    def _projecting(self, events: Sequence[DomainEventProtocol[UUID]]) -> outbox.Project:
        prepared = [projection.steps(events) for projection in self.projections]
        names = [projection.name for projection in self.projections]

        def project(cursor: Any) -> None:
            # a few statements a save: sent without waiting on each one's answer
            with outbox.pipelined(cursor.connection):
                for steps in prepared:
                    send(cursor, steps)
                self.process_recorder.record_projected(cursor, names)

        return project

    def _state_before(self, event: DomainEventProtocol[UUID]) -> Any:
        if event.originator_version == 1:
            return None
        return self.repository.get(event.originator_id, version=event.originator_version - 1)

    def process_batch(
        self, work: Sequence[tuple[Policy, Envelope]], arrivals: Mapping[Stream, int]
    ) -> tuple[list[tuple[Envelope, str]], bool]:
        """Run each policy on its upstream event, in order, and save every change with every
        upstream position in one transaction. A command a policy's aggregate rejects is
        returned with its reason (for the dead letters) and the rest go on. Where the batch
        cannot be saved as a whole (a concurrent change to the same aggregate, a policy that
        failed half-way, a change refused as it is saved, such as one about a person whose
        data was erased), each event is processed on its own, as if it came alone.

        The consumer's last positions taken (`arrivals`) are written in the same transaction
        when no event is rejected (those of a batch with dead letters are written after
        them); returns the rejected events and whether the positions were written."""
        positions = {(e.producer, e.sequence) for _, e in work if e.sequence is not None}
        # none is looked up first: the consumer passes over what it took before (see
        # `plumbing.arrivals`), and a position recorded all the same (the service stopped
        # between its batch and its last positions) fails the batch's tracking insert
        unit = UnitOfWork(positions)
        self._units.current = unit  # (what a service's `will_load` reads is read once)
        try:
            self._preload(unit, (envelope for _, envelope in work))
            rejected = [r for policy, e in work if (r := self._in_unit(unit, policy, e))]
            arrivals = {} if rejected else arrivals
            if unit.changes.events or unit.trackings or arrivals:
                self._write(unit.changes, trackings=unit.trackings, arrivals=arrivals)
            for aggregate_id, aggregate in unit.loaded.items():  # as they stand: for the next
                if aggregate is not None and not aggregate.pending_events:
                    self.recent.keep(aggregate_id, aggregate)
            return rejected, bool(arrivals)
        except (Rollback, IntegrityError, CommandRejected):
            pass
        finally:
            self._units.current = None
        return [r for policy, e in work if (r := self._alone(policy, e))], False

    @staticmethod
    def _in_unit(
        unit: UnitOfWork, policy: Policy, envelope: Envelope
    ) -> tuple[Envelope, str] | None:
        events_before = len(unit.changes.events)
        try:
            policy(envelope)
        except CommandRejected as rejection:
            if unit.dirty() or len(unit.changes.events) != events_before:
                raise Rollback from rejection
            return envelope, str(rejection)
        return None

    def _alone(self, policy: Policy, envelope: Envelope) -> tuple[Envelope, str] | None:
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                policy(envelope)
                return None
            except CommandRejected as rejection:
                return envelope, str(rejection)
            except IntegrityError:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
        return None


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
