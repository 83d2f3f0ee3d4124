"""The transactional outbox: each stored event's wire message, made once, as it is stored.

A service's events reach other services only as wire messages made from its own event log.
The message is made when the events are saved, from the event and the aggregate as it stood
just after it, and written in the same transaction to the `outbox` table, numbered by the
event's position in the log. The relay publishes ready messages from there and the `/events`
feed serves them, so nothing re-reads an aggregate to publish it.
"""

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import DomainEvent, DomainEventProtocol
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Connection, Cursor, Error, pq, sql
from psycopg.rows import DictRow, TupleRow, tuple_row

from plumbing.arrivals import columns, table_of, upsert
from plumbing.projection import LocalProjection
from schemas.envelope import Envelope, Payload
from schemas.personal import SEAL, Sealer
from schemas.topics import topic_of

# A wire event's class and payload
Wire = tuple[type[Envelope], Payload]
# Applies a saved batch's events to the local projections, in the transaction that stores them
Project = Callable[[Cursor[DictRow]], None]
# Makes one kind of stored event's wire event and payload, from the event and its aggregate
Make = Callable[[Any, Any], Wire]


# What seals the personal fields of a wire event, given its aggregate as it stood just after
# it (None: the aggregate holds none)
SealerOf = Callable[[Any, DomainEventProtocol[UUID]], Sealer | None]


def event_id(originator_id: UUID, version: int) -> UUID:
    """A stable id for a stored event, the same on every republish."""
    return uuid5(NAMESPACE_URL, f"civil-orders:event/{originator_id}/{version}")


@dataclass(frozen=True)
class Message:
    """A ready wire message: what the relay publishes and the feed serves."""

    sequence: int
    topic: str
    key: bytes
    event_type: str
    correlation_id: str
    value: bytes

    def row(self) -> tuple[int, str, bytes, str, str, bytes]:
        return self.sequence, self.topic, self.key, self.event_type, self.correlation_id, self.value


# The envelope is made and serialised before the event is stored, with these in place of the
# position the log gives it and of its predecessor's; the statement that writes the outbox
# fills them in, in the database. (The events table is locked while events are stored, and
# nothing slow should happen under that lock, least of all a wait for this process.)
PENDING = 999_999_999_999_999_999
PENDING_PREVIOUS = 999_999_999_999_999_998
_PENDING = b'"sequence":%d' % PENDING
_PENDING_PREVIOUS = b'"previous_sequence":%d' % PENDING_PREVIOUS


@dataclass(frozen=True)
class Wired:
    """A stored event's wire message, ready but for its position in the log."""

    originator_id: UUID
    originator_version: int
    topic: str
    key: bytes
    event_type: str
    correlation_id: str
    template: bytes

    @classmethod
    def of(
        cls,
        event: DomainEventProtocol[UUID],
        kind: type[Envelope],
        payload: Payload,
        producer: str,
        seal: Sealer | None = None,
    ) -> "Wired":
        trace = event.trace  # type: ignore[attr-defined]
        envelope = kind(  # type: ignore[call-arg]  # the subclass fixes the type
            event_id=event_id(event.originator_id, event.originator_version),
            occurred_at=cast(DomainEvent, event).timestamp,
            producer=producer,
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            sequence=PENDING,
            previous_sequence=PENDING_PREVIOUS,
            correlation_id=trace.correlation_id,
            causation_id=trace.causation_id,
            actor=trace.actor,
            payload=payload,
        )
        value = envelope.model_dump_json(context={SEAL: seal} if seal else None).encode()
        assert value.count(_PENDING) == value.count(_PENDING_PREVIOUS) == 1, "must be fillable"
        topic = topic_of(kind).name
        key = str(event.originator_id).encode()
        return cls(
            event.originator_id,
            event.originator_version,
            topic,
            key,
            envelope.event_type,
            str(trace.correlation_id),
            value,
        )

    @property
    def stream(self) -> tuple[str, bytes]:
        """What the broker keeps in order: one aggregate's messages on one topic."""
        return self.topic, self.key

    def at(self, sequence: int, previous: int) -> Message:
        """The message at its position in the log, after the one at `previous` of its stream
        (0: the first): as `OutboxRecorder.write_outbox` fills it in, in the database."""
        value = self.template.replace(_PENDING, b'"sequence":%d' % sequence).replace(
            _PENDING_PREVIOUS, b'"previous_sequence":%d' % previous
        )
        return Message(sequence, self.topic, self.key, self.event_type, self.correlation_id, value)


def chain_positions(
    wired: Sequence[Wired | None], positions: Sequence[int], last: Mapping[tuple[str, bytes], int]
) -> list[Message]:
    """Each wired event's message at its position, linked to the one before it of its stream:
    the last of `last` (positions already in the outbox) or an earlier one of these."""
    latest = dict(last)
    messages = []
    for w, position in zip(wired, positions, strict=True):
        if w is not None:
            messages.append(w.at(position, latest.get(w.stream, 0)))
            latest[w.stream] = position
    return messages


def wire_all(
    wire: Mapping[type, Make],
    producer: str,
    events: Sequence[DomainEventProtocol[UUID]],
    latest: Mapping[UUID, Any],
    before: Callable[[DomainEventProtocol[UUID]], Any],
    sealer_of: SealerOf = lambda aggregate, event: None,
    every_state: bool = False,
) -> tuple[list[Wired | None], dict[UUID, Any]]:
    """The wire message of each event (None for private ones, those `wire` has no maker
    for), each made from its aggregate as it stood just after it (and its personal fields
    sealed for the person the aggregate is about), and the aggregates so made, as they stand
    after all of them (`every_state`: every aggregate of `events`, even those none of whose
    events go on the wire).

    An aggregate with one event among `events` is taken from `latest` as it is; one with
    several is replayed from `before(its first event)`, its state just before that event
    (None for an event that creates it), only as far as its last event on the wire."""
    counts = Counter(event.originator_id for event in events)
    current: dict[UUID, Any] = {}
    waiting: dict[UUID, list[DomainEventProtocol[UUID]]] = {}  # not yet applied, by aggregate

    def replay(key: UUID) -> Any:
        unapplied = waiting.pop(key)
        state = current[key] if key in current else before(unapplied[0])
        for event in unapplied:
            state = cast(Any, event).mutate(state)
        current[key] = state
        return state

    wired: list[Wired | None] = []
    for event in events:
        key = event.originator_id
        waiting.setdefault(key, []).append(event)
        make = wire.get(type(event))
        if make is None:
            wired.append(None)
            continue
        if counts[key] == 1 and key in latest:
            del waiting[key]
            current[key] = aggregate = latest[key]
        else:
            aggregate = replay(key)
        kind, payload = make(event, aggregate)
        seal = sealer_of(aggregate, event)
        wired.append(Wired.of(event, kind, payload, producer, seal))
    if every_state:
        for key in list(waiting):
            replay(key)
    return wired, current


OUTBOX = """
CREATE TABLE IF NOT EXISTS {schema}.outbox (
    notification_id bigint PRIMARY KEY,
    topic text NOT NULL,
    key bytea NOT NULL,
    event_type text NOT NULL,
    correlation_id text NOT NULL,
    value bytea NOT NULL
)"""
# each message names its predecessor in its stream, looked up here as it is written
OUTBOX_BY_STREAM = """
CREATE INDEX IF NOT EXISTS outbox_by_stream ON {schema}.outbox (key, topic, notification_id)"""
# how far each local projection has applied the log (see `plumbing.projection`)
PROJECTED = """
CREATE TABLE IF NOT EXISTS {schema}.projected (name text PRIMARY KEY, position bigint NOT NULL)"""


def stored_events(rows: Sequence[DictRow]) -> list[StoredEvent]:
    """Stored events from rows of an events or snapshots table."""
    return [
        StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
        for r in rows
    ]


def pipelined(conn: Connection[Any]) -> AbstractContextManager[object]:
    """Pipeline mode for what follows, unless the connection is in it already (a pipeline
    entered inside another sends what it holds and waits for the answers when it ends)."""
    if conn.pgconn.pipeline_status == pq.PipelineStatus.OFF:
        return conn.pipeline()
    return nullcontext()


@contextmanager
def sent_whole(conn: Connection[Any]) -> Iterator[None]:
    """A transaction sent as one: BEGIN, its statements and COMMIT pipelined behind a single
    Sync, so it costs one round trip to the server. (A transaction block psycopg opens in a
    pipeline syncs at BEGIN and again at COMMIT: three more round trips, each a wait for
    this thread to get the interpreter back, and under the events table's lock the last of
    them held it meanwhile.) On any error it is rolled back: the server has left it open,
    or aborted it, at the Sync."""
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            yield
            conn.execute("COMMIT")
    except BaseException:
        with suppress(Error):  # (a broken connection: the pool will not hand it out again)
            conn.rollback()
        raise


# A small save's statements are planned once for all small saves. PostgreSQL would plan each
# statement taking arrays (`unnest`) afresh at every save, since a plan for the arrays it was
# given looks cheaper than one for any arrays: for a save of one event, planning the outbox's
# statement took longer than running it (~1.9 ms against ~1.4, the events table locked). A
# large save keeps PostgreSQL's own plans: their making is spread over hundreds of rows, and
# a plan for the arrays it holds can only be better informed.
GENERIC_PLANS = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"

# the largest save whose statements are pipelined (see `OutboxRecorder.insert_events`)
PIPELINED_EVENTS = 32
PIPELINED_BYTES = 64 * 1024


class OutboxRecorder(PostgresProcessRecorder):
    """The library's process recorder, which also writes the saved events' wire messages
    (`outbox=`, one per stored event or None), any number of upstream positions
    (`trackings=`, for a batch) and the consumer's last positions taken of each stream
    (`arrivals=`, see `plumbing.arrivals`) in the same transaction as the events.

    It records a large batch without psycopg's pipeline mode, which the library uses here: a
    pipeline holding a large insert (a batch of a few hundred events) stalled for good, the
    server waiting to read the rest of it and the client waiting for its results.

    Its notice that events were stored names the process that stored them (`writer`), so a
    process can tell another's writes from its own (see `EventSourcedService`)."""

    @cached_property
    def writer(self) -> str:
        """This recorder's id in its notices (a process may hold several, in tests and tools)."""
        return uuid4().hex

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Store the events and what goes with them in one transaction; a small save sent
        whole (`sent_whole`), one round trip to the server.

        Nothing in the transaction waits for this process once the events table is locked:
        the outbox is filled in from the stored events by the database, and the local
        projections' statements, made before the transaction began, are sent before any
        answer is read. Under the lock, each answer this process had to read before it could
        go on (the positions the insert handed out, the last message of each stream) had been
        a wait for its thread to get the interpreter back from the others: at 16 cases in
        flight, the application service's saves queued for the lock, and its holder spent
        most of its time waiting for the client."""
        size = sum(len(event.state) for event in stored_events)
        small = len(stored_events) <= PIPELINED_EVENTS and size <= PIPELINED_BYTES
        with self.datastore.get_connection() as conn:
            with sent_whole(conn) if small else conn.transaction():
                curs = conn.cursor()
                if small:
                    curs.execute(GENERIC_PLANS, prepare=True)
                self._insert_events(curs, stored_events, **kwargs)
                if not stored_events:
                    return None
                inserted = self._insert_in_order(curs, stored_events)
                self.write_outbox(curs, kwargs.get("outbox", ()))
                project: Project | None = kwargs.get("project")
                if project is not None:
                    project(curs)
            # the positions the insert handed out, as plain tuples: the library reads each
            # as a dict (a tenth of a screening batch's time, one row an event)
            return [row[0] for row in inserted.fetchall()]

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        for tracking in kwargs.get("trackings", ()):
            self._insert_tracking(curs, tracking)
        if last := kwargs.get("arrivals"):
            curs.execute(self._record_arrivals, columns(last), prepare=True)

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute("SELECT pg_notify(%s, %s)", (self.channel_name, self.writer), prepare=True)

    def _insert_in_order(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]
    ) -> "Cursor[TupleRow]":
        """As the library inserts them (table locked, listeners notified), but with each
        column sent as one binary array: the library's array of composite values is dumped
        field by field in Python, and took most of a large batch's time. Returns the cursor
        whose result holds the positions handed out (read once the transaction is sent)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        inserted = curs.connection.cursor(row_factory=tuple_row)
        inserted.execute(
            self._insert_columns,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )
        return inserted

    @cached_property
    def _record_arrivals(self) -> sql.SQL:
        return sql.SQL(upsert(table_of(self.datastore.schema), "%b", "%b", "%b", "%b"))

    @cached_property
    def _insert_columns(self) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {}.{} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::int8[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))

    def catch_up(
        self,
        projections: Sequence[LocalProjection],
        to_domain_event: Callable[[StoredEvent], DomainEventProtocol[UUID]],
    ) -> None:
        """Create each projection's tables and apply to them whatever the log holds after the
        position it has got to, under the log's lock (nothing is stored meanwhile). A
        projection that once followed the log starts where its tracking record says."""
        schema = sql.Identifier(self.datastore.schema)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL(PROJECTED).format(schema=schema))
            self._lock_table(curs)
            for projection in projections:
                curs.execute(projection.ddl)
                curs.execute(self._projected_at, (projection.name, f"projection:{projection.name}"))
                position = cast(DictRow, curs.fetchone())["position"]
                curs.execute(self._select_after, (position, projection.topics))
                stored = stored_events(curs.fetchall())
                projection.project(curs, (to_domain_event(event) for event in stored))
                self.record_projected(curs, [projection.name])

    def record_projected(self, curs: Cursor[DictRow], names: Sequence[str]) -> None:
        """Record that these projections have applied the log up to its newest event (the
        log is locked: this transaction's last, or the head it caught up to)."""
        curs.execute(self._upsert_projected, (list(names),), prepare=True)

    @cached_property
    def _projected_at(self) -> sql.Composed:
        return sql.SQL(
            "SELECT coalesce((SELECT position FROM {}.projected WHERE name = %s),"
            " (SELECT max(notification_id) FROM {}.{} WHERE application_name = %s), 0)"
            " AS position"
        ).format(
            sql.Identifier(self.datastore.schema),
            sql.Identifier(self.datastore.schema),
            sql.Identifier(self.tracking_table_name),
        )

    @cached_property
    def _select_after(self) -> sql.Composed:
        return sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{}"
            " WHERE notification_id > %s AND topic = ANY(%b) ORDER BY notification_id"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))

    @cached_property
    def _upsert_projected(self) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {0}.projected (name, position) SELECT unnest(%b::text[]),"
            " (SELECT coalesce(max(notification_id), 0) FROM {0}.{1})"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))

    def write_outbox(self, curs: Cursor[DictRow], wired: Sequence[Wired | None]) -> None:
        """Write the stored events' messages (None: a private event), each filled in by the
        database with its event's position in the log and that of the message before it of
        its stream (in the outbox already, or one of these): what `Wired.at` fills in."""
        messages = [w for w in wired if w is not None]
        if not messages:
            return
        curs.execute(
            self._fill_outbox,
            (
                _PENDING.decode(),
                _PENDING_PREVIOUS.decode(),
                [m.originator_id for m in messages],
                [m.originator_version for m in messages],
                [m.topic for m in messages],
                [m.key for m in messages],
                [m.event_type for m in messages],
                [m.correlation_id for m in messages],
                [m.template for m in messages],
            ),
            prepare=True,
        )

    @cached_property
    def _fill_outbox(self) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {0}.outbox (notification_id, topic, key, event_type, correlation_id,"
            " value) SELECT e.notification_id, m.topic, m.key, m.event_type, m.correlation_id,"
            " convert_to(replace(replace(convert_from(m.template, 'UTF8'),"
            " %s, '\"sequence\":' || e.notification_id), %s, '\"previous_sequence\":' || coalesce("
            "lag(e.notification_id) OVER (PARTITION BY m.topic, m.key ORDER BY e.notification_id),"
            " (SELECT max(o.notification_id) FROM {0}.outbox o"
            " WHERE o.key = m.key AND o.topic = m.topic), 0)), 'UTF8')"
            " FROM unnest(%b::uuid[], %b::int8[], %b::text[], %b::bytea[], %b::text[], %b::text[],"
            " %b::bytea[]) AS m(originator_id, originator_version, topic, key, event_type,"
            " correlation_id, template)"
            " JOIN {0}.{1} e USING (originator_id, originator_version)"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))

    def select_messages(self, after: int, limit: int) -> list[Message]:
        """Ready wire messages after log position `after`, in log order."""
        statement = sql.SQL(
            "SELECT notification_id, topic, key, event_type, correlation_id, value"
            " FROM {}.outbox WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(self.datastore.schema))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (after, limit), prepare=True)
            return [
                Message(
                    row["notification_id"],
                    row["topic"],
                    bytes(row["key"]),
                    row["event_type"],
                    row["correlation_id"],
                    bytes(row["value"]),
                )
                for row in curs.fetchall()
            ]

    def recorded_positions(self, positions: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """Which of these upstream positions are recorded, in one read."""
        statement = sql.SQL(
            "SELECT application_name, notification_id FROM {}.{} WHERE"
            " (application_name, notification_id) IN (SELECT * FROM unnest(%b::text[], %b::int8[]))"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.tracking_table_name))
        upstreams, sequences = zip(*positions, strict=True)
        # one statement, so no transaction around it (a rolled-back one costs psycopg its
        # prepared statements, and the server two more round trips)
        with self.datastore.cursor() as cursor:
            cursor.execute(statement, (list(upstreams), list(sequences)))
            return {(row["application_name"], row["notification_id"]) for row in cursor}

    def max_message_id(self) -> int:
        statement = sql.SQL("SELECT max(notification_id) FROM {}.outbox").format(
            sql.Identifier(self.datastore.schema)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            row = curs.fetchone()
            return (row["max"] if row else None) or 0

    def select_latest(
        self, after: Mapping[UUID, int], snapshots_table: str | None
    ) -> list[StoredEvent]:
        """In one read, for each aggregate, its events after the version `after` gives it;
        where that is 0, its newest snapshot (if any) first and the events after that. By
        aggregate, each one's snapshot first, then its events by version."""
        if not after:
            return []
        schema = sql.Identifier(self.datastore.schema)
        statement = self._latest_with_snapshots if snapshots_table else self._latest
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                statement.format(
                    snapshots=sql.SQL("{}.{}").format(
                        schema, sql.Identifier(snapshots_table or "")
                    ),
                    events=sql.SQL("{}.{}").format(schema, sql.Identifier(self.events_table_name)),
                ),
                (list(after), list(after.values())),
                prepare=True,
            )
            return stored_events(curs.fetchall())

    _latest = sql.SQL(
        "SELECT e.originator_id, e.originator_version, e.topic, e.state"
        " FROM unnest(%b::uuid[], %b::int8[]) AS w(id, after)"
        " JOIN {events} e ON e.originator_id = w.id AND e.originator_version > w.after"
        " ORDER BY e.originator_id, e.originator_version"
    )
    _latest_with_snapshots = sql.SQL(
        "WITH w(id, after) AS (SELECT * FROM unnest(%b::uuid[], %b::int8[])),"
        " s AS (SELECT DISTINCT ON (s.originator_id) s.originator_id, s.originator_version,"
        " s.topic, s.state FROM {snapshots} s JOIN w ON s.originator_id = w.id AND w.after = 0"
        " ORDER BY s.originator_id, s.originator_version DESC)"
        " SELECT 0 AS part, * FROM s UNION ALL"
        " SELECT 1, e.originator_id, e.originator_version, e.topic, e.state FROM w"
        " LEFT JOIN s ON s.originator_id = w.id JOIN {events} e ON e.originator_id = w.id"
        " AND e.originator_version > greatest(w.after, coalesce(s.originator_version, 0))"
        " ORDER BY originator_id, part, originator_version"
    )


def install(
    recorder: OutboxRecorder,
    producer: str,
    wire: Mapping[type, Make],
    to_domain_event: Callable[[Any], DomainEventProtocol[UUID]],
    sealer_of: SealerOf = lambda aggregate, event: None,
) -> None:
    """Create the outbox; where events were stored before it existed, make their messages
    now, in log order, in the same transaction (so a crash leaves no half-filled outbox)."""
    schema = sql.Identifier(recorder.datastore.schema)
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute("SELECT to_regclass(%s) AS found", (f"{recorder.datastore.schema}.outbox",))
        row = curs.fetchone()
        existed = row is not None and row["found"] is not None
        curs.execute(sql.SQL(OUTBOX).format(schema=schema))
        curs.execute(sql.SQL(OUTBOX_BY_STREAM).format(schema=schema))
        if existed:
            return
        states: dict[UUID, Any] = {}
        after, page = 0, 1000
        while notifications := recorder.select_notifications(after, page, inclusive_of_start=False):
            events = [to_domain_event(n) for n in notifications]
            wired, after_page = wire_all(
                wire,
                producer,
                events,
                {},
                lambda event: states.get(event.originator_id),
                sealer_of,
                every_state=True,
            )
            states.update(after_page)
            recorder.write_outbox(curs, wired)
            after = notifications[-1].id
