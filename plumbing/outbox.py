"""The transactional outbox: each stored event's wire message, made once, as it is stored.

A service's events reach other services only as wire messages made from its own event log.
The message is made when the events are saved, from the event and the aggregate as it stood
just after it, and written in the same transaction to the `outbox` table, numbered by the
event's position in the log. The relay publishes ready messages from there and the `/events`
feed serves them, so nothing re-reads an aggregate to publish it.
"""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import DomainEvent, DomainEventProtocol
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor, sql
from psycopg.rows import DictRow, TupleRow, tuple_row

from plumbing.arrivals import columns, table_of, upsert
from plumbing.projection import LocalProjection
from schemas.envelope import Envelope, Payload
from schemas.personal import SEAL, Sealer
from schemas.topics import topic_of

# A wire event's class and payload
Wire = tuple[type[Envelope], Payload]
# Applies a saved batch's events to the local projections, up to its last position in the log,
# in the transaction that stores them
Project = Callable[[Cursor[DictRow], int], None]
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
# position the log gives it and of its predecessor's; storing fills them in. (The events table
# is locked while events are stored, and nothing slow should happen under that lock.)
PENDING = 999_999_999_999_999_999
PENDING_PREVIOUS = 999_999_999_999_999_998
_PENDING = b'"sequence":%d' % PENDING
_PENDING_PREVIOUS = b'"previous_sequence":%d' % PENDING_PREVIOUS


@dataclass(frozen=True)
class Wired:
    """A stored event's wire message, ready but for its position in the log."""

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
        return cls(topic, key, envelope.event_type, str(trace.correlation_id), value)

    @property
    def stream(self) -> tuple[str, bytes]:
        """What the broker keeps in order: one aggregate's messages on one topic."""
        return self.topic, self.key

    def at(self, sequence: int, previous: int) -> Message:
        """The message at its position in the log, after the one at `previous` of its stream
        (0: the first)."""
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


class OutboxRecorder(PostgresProcessRecorder):
    """The library's process recorder, which also writes the saved events' wire messages
    (`outbox=`, one per stored event or None), any number of upstream positions
    (`trackings=`, for a batch) and the consumer's last positions taken of each stream
    (`arrivals=`, see `plumbing.arrivals`) in the same transaction as the events.

    It records without psycopg's pipeline mode, which the library uses here: a pipeline
    holding a large insert (a batch of a few hundred events) stalled for good, the server
    waiting to read the rest of it and the client waiting for its results.

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
        with self.datastore.transaction(commit=True) as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

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

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """As the library inserts them (table locked, listeners notified), but with each
        column sent as one binary array: the library's array of composite values is dumped
        field by field in Python, and took most of a large batch's time."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    @cached_property
    def _record_arrivals(self) -> sql.SQL:
        return sql.SQL(upsert(table_of(self.datastore.schema), "%s", "%s", "%s", "%s"))

    @cached_property
    def _insert_columns(self) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {}.{} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::int8[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # the positions the insert returned, as plain tuples: the library reads each as a dict
        # (a tenth of a screening batch's time, one row an event)
        as_tuples, as_dicts = cast("Cursor[TupleRow]", curs), curs.row_factory
        as_tuples.row_factory = tuple_row
        notification_ids: list[int] = [row[0] for row in as_tuples.fetchall()]
        curs.row_factory = as_dicts
        wired: Sequence[Wired | None] = kwargs.get("outbox", ())
        if notification_ids and wired:
            self.write_outbox(curs, wired, notification_ids)
        project: Project | None = kwargs.get("project")
        if notification_ids and project is not None:
            project(curs, notification_ids[-1])
        return notification_ids

    def catch_up(
        self,
        projections: Sequence[LocalProjection],
        to_domain_event: Callable[[StoredEvent], DomainEventProtocol[UUID]],
    ) -> None:
        """Create each projection's tables and apply to them whatever the log holds after the
        position it has got to, under the log's lock (nothing is stored meanwhile). A
        projection that once followed the log starts where its tracking record says."""
        schema = sql.Identifier(self.datastore.schema)
        events = sql.Identifier(self.events_table_name)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL(PROJECTED).format(schema=schema))
            self._lock_table(curs)
            curs.execute(
                sql.SQL("SELECT coalesce(max(notification_id), 0) AS head FROM {}.{}").format(
                    schema, events
                )
            )
            head = cast(DictRow, curs.fetchone())["head"]
            for projection in projections:
                curs.execute(projection.ddl)
                curs.execute(self._projected_at, (projection.name, f"projection:{projection.name}"))
                position = cast(DictRow, curs.fetchone())["position"]
                curs.execute(self._select_after, (position, projection.topics))
                stored = stored_events(curs.fetchall())
                projection.project(curs, (to_domain_event(event) for event in stored))
                self.record_projected(curs, [projection.name], head)

    def record_projected(self, curs: Cursor[DictRow], names: Sequence[str], position: int) -> None:
        """Record that these projections have applied the log up to `position`."""
        curs.execute(self._upsert_projected, (list(names), position), prepare=True)

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
            " WHERE notification_id > %s AND topic = ANY(%s) ORDER BY notification_id"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))

    @cached_property
    def _upsert_projected(self) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {}.projected (name, position) SELECT unnest(%s::text[]), %s"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position"
        ).format(sql.Identifier(self.datastore.schema))

    def write_outbox(
        self, curs: Cursor[DictRow], wired: Sequence[Wired | None], positions: Sequence[int]
    ) -> None:
        """Write each event's message (None: a private event) at its position in the log,
        linked to the message before it of its stream."""
        streams = list({w.stream for w in wired if w is not None})
        if not streams:
            return
        curs.execute(
            self._last_of_streams,
            ([topic for topic, _ in streams], [key for _, key in streams]),
            prepare=True,
        )
        last = {(row["topic"], bytes(row["key"])): row["last"] for row in curs.fetchall()}
        messages = chain_positions(wired, positions, last)
        curs.executemany(self._insert_outbox, [message.row() for message in messages])

    @cached_property
    def _last_of_streams(self) -> sql.Composed:
        return sql.SQL(
            "SELECT s.topic, s.key, o.last FROM unnest(%s::text[], %s::bytea[]) AS s(topic, key)"
            " CROSS JOIN LATERAL (SELECT max(notification_id) AS last FROM {}.outbox"
            " WHERE key = s.key AND topic = s.topic) AS o WHERE o.last IS NOT NULL"
        ).format(sql.Identifier(self.datastore.schema))

    @cached_property
    def _insert_outbox(self) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {}.outbox (notification_id, topic, key, event_type, correlation_id,"
            " value) VALUES (%s, %s, %s, %s, %s, %s)"
        ).format(sql.Identifier(self.datastore.schema))

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
            " (application_name, notification_id) IN (SELECT * FROM unnest(%s::text[], %s::int8[]))"
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
        " FROM unnest(%s::uuid[], %s::int8[]) AS w(id, after)"
        " JOIN {events} e ON e.originator_id = w.id AND e.originator_version > w.after"
        " ORDER BY e.originator_id, e.originator_version"
    )
    _latest_with_snapshots = sql.SQL(
        "WITH w(id, after) AS (SELECT * FROM unnest(%s::uuid[], %s::int8[])),"
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
            recorder.write_outbox(curs, wired, [n.id for n in notifications])
            after = notifications[-1].id
