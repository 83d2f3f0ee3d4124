"""Sealing a store written before personal data was sealed: a new version of the store,
written by replaying the old one, checked against it, and swapped in whole.

A service's store written by a build without sealing holds its declared personal fields in
plain text (the mapper reads such values as they are, and opens only sealed ones, so the
services run on it, but nothing there can be erased). For each such store, with the
services stopped:

1. The history is replayed, in log order, into a scratch schema (`<service>__sealed`): each
   event that names a person (by its aggregate, as the service would) and holds a declared
   personal field in plain text is written again with those fields sealed under the
   person's key (made on first sight); every other event is copied byte for byte. Each
   keeps its notification id, so every position held elsewhere (the relay's, the read
   models', other services' arrivals) still means the same event. The hash chain is
   computed over the new rows, and the outbox made again from them.
2. The new store is checked against the old: the same events in the same order, the same
   fields, the personal ones opening to the old plain values, none left plain; its chain
   intact.
3. In one transaction the old schema is renamed aside, the new one takes its name, what is
   not derived from the history (tracking records, dead letters, arrivals) moves across, the
   chain's trigger is installed, the chain verified again, and the old schema dropped.
   Snapshots, the `projected` positions and the local read models are left behind: they are
   derived from the history and made again when the service next opens the store (the
   migration opens it once to do so).

A crash before that transaction commits leaves the old store as it was (a half-written
scratch schema is dropped by the next run); after it, the new store is whole.
"""

import dataclasses
import re
import time
from collections.abc import Callable, Iterator, Sequence
from itertools import zip_longest
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import InfrastructureFactory, Mapper, StoredEvent
from eventsourcing.utils import Environment
from psycopg import sql

from plumbing import chain, outbox
from plumbing.eventstore import EventSourcedService, connect, create_schema
from plumbing.keytable import PostgresKeys
from plumbing.outbox import OutboxRecorder
from plumbing.personal import PersonalFields, sealing_with
from plumbing.projection import LocalProjection
from plumbing.settings import Settings
from schemas.personal import ERASED, is_sealed

PAGE = 1000
WAIT_SECONDS = 10.0
# kept as they are: the store's own tables that the history does not make
CARRIED = ("tracking", "dead_letters", "arrivals")
# made again from the history: now, or when the service next opens its store
REMADE = ("events", "snapshots", "outbox", "projected")
_TABLE_IN_DDL = re.compile(r'CREATE TABLE IF NOT EXISTS\s+"?\w+"?\."?(\w+)"?', re.IGNORECASE)


class MigrationStopped(RuntimeError):
    """The migration stopped before changing the store it was at (those before stay sealed)."""


class StoreInUse(MigrationStopped):
    def __init__(self, clients: Sequence[str]) -> None:
        super().__init__(
            f"{len(clients)} other connection(s) to the database ({', '.join(clients)}): "
            "stop the stack (every service, and the read-model service) and run it again"
        )


class UnknownTables(MigrationStopped):
    def __init__(self, schema: str, tables: Sequence[str]) -> None:
        super().__init__(
            f"schema {schema} holds table(s) neither the event store nor a local read model "
            f"makes ({', '.join(tables)}); nothing was changed"
        )


class NotTheSameHistory(MigrationStopped):
    def __init__(self, schema: str, why: str) -> None:
        super().__init__(f"the sealed copy of {schema} is not the same history: {why}")


@dataclasses.dataclass(frozen=True)
class Store:
    """A service's event store, and the read models it keeps of its own events."""

    service: type[EventSourcedService]
    local_projections: Callable[[Any], Sequence[LocalProjection]] = lambda service: ()

    @property
    def name(self) -> str:
        return self.service.name


@dataclasses.dataclass
class Sealing:
    """What sealing a store found, and did (nothing, on a dry run or with nothing plain)."""

    store: str
    events: int = 0
    plain: int = 0  # events that held personal fields in plain text
    people: int = 0  # how many people those events are about
    sealed: bool = False
    remade: tuple[str, ...] = ()  # the tables made again from the history

    def describe(self) -> str:
        if not self.events:
            return "no events stored: nothing to seal"
        if not self.plain:
            return f"{self.events} events, none with plain personal data: left untouched"
        done = "sealed" if self.sealed else "would seal"
        return (
            f"{self.events} events, {done} {self.plain} holding plain personal data about "
            f"{self.people} people; made again: {', '.join(self.remade)}"
        )


def other_connections(settings: Settings) -> list[str]:
    """The clients connected to the database besides this one."""
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT coalesce(nullif(application_name, ''), 'pid ' || pid)"
            " || coalesce(' from ' || client_addr::text, '') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        ).fetchall()
    return [row[0] for row in rows]


def _alone_on(settings: Settings, seconds: float = WAIT_SECONDS) -> None:
    """Return once nobody else is connected (a process that has just stopped may take a few
    seconds to let go); after `seconds`, refuse."""
    deadline = time.monotonic() + seconds
    while clients := other_connections(settings):
        if time.monotonic() > deadline:
            raise StoreInUse(clients)
        time.sleep(0.5)


def seal_stores(settings: Settings, stores: Sequence[Store], dry_run: bool) -> list[Sealing]:
    """Seal every store that holds plain personal data (with `dry_run`, say what would be
    sealed and change nothing). Refused while anyone else is connected to the database."""
    if not dry_run:
        _alone_on(settings)
        PostgresKeys(settings.personal_keys_database_url or settings.database_url).install()
    return [seal_store(settings, store, dry_run) for store in stores]


def seal_store(settings: Settings, store: Store, dry_run: bool = False) -> Sealing:
    if not _exists(settings, store.name, chain.events_table(store.name)):
        return Sealing(store.name)
    service = store.service(settings, read_only=True)
    try:
        found = _survey(settings, service)
        if not found.plain:
            return found
        local = _local_tables(store, service)
        _check_tables(settings, store.name, local)
        found.remade = (*REMADE, *local)
        if dry_run:
            return found
        _write_sealed(settings, service)
        _verify(settings, service)
        _swap_in(settings, store.name)
        found.sealed = True
    finally:
        service.close()
    _open_once(settings, store)
    return found


def scratch(schema: str) -> str:
    return f"{schema}__sealed"


def _retired(schema: str) -> str:
    return f"{schema}__unsealed"


# Reading the history


@dataclasses.dataclass(frozen=True)
class Replayed:
    """A stored event as the history reads at that point."""

    row: StoredEvent
    notification_id: int
    event: Any  # opened: what the service reads
    plain: bool  # whether personal fields the service would seal are plain
    nominal: str | None  # whose the event's aggregate is, after it


def _replay(
    conn: psycopg.Connection[Any], service: EventSourcedService, schema: str
) -> Iterator[list[Replayed]]:
    """The store's events in `schema`, a page at a time, in log order."""
    declared = service.personal_fields
    aggregates: dict[UUID, Any] = {}
    for rows in _pages(conn, schema, chain.events_table(service.name)):
        page = []
        for notification_id, stored in rows:
            event: Any = service.mapper.to_domain_event(stored)
            aggregate = aggregates[event.originator_id] = event.mutate(
                aggregates.get(event.originator_id)
            )
            nominal = declared.nominal(type(aggregate), vars(aggregate)) if aggregate else None
            as_stored = Mapper.to_domain_event(service.mapper, stored)  # sealed values unopened
            plain = nominal is not None and bool(plain_values(declared, as_stored))
            page.append(Replayed(stored, notification_id, event, plain, nominal))
        yield page


def _pages(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> Iterator[list[tuple[int, StoredEvent]]]:
    select = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state"
        " FROM {}.{} ORDER BY notification_id"
    ).format(sql.Identifier(schema), sql.Identifier(table))
    with conn.transaction(), conn.cursor(name=f"replay_{schema}") as cursor:
        cursor.itersize = PAGE
        cursor.execute(select)
        while rows := cursor.fetchmany(PAGE):
            yield [(n, StoredEvent(i, v, t, bytes(s))) for n, i, v, t, s in rows]


def plain_values(declared: PersonalFields, event: Any) -> list[Any]:
    """The event's declared personal values that are neither sealed nor erased."""
    found: list[Any] = []

    def look(value: Any) -> Any:
        if not (is_sealed(value) or value == ERASED):
            found.append(value)
        return value

    declared.seal(type(event), vars(event), look)
    return found


def _survey(settings: Settings, service: EventSourcedService) -> Sealing:
    found, people = Sealing(service.name), set()
    with connect(settings) as conn:
        for page in _replay(conn, service, service.name):
            found.events += len(page)
            for replayed in page:
                if replayed.plain:
                    found.plain += 1
                    people.add(replayed.nominal)
    found.people = len(people)
    return found


# Writing the new store


def _write_sealed(settings: Settings, service: EventSourcedService) -> None:
    """The new store in the scratch schema: its events (personal fields sealed, hash chain
    computed) and its outbox made from them."""
    name, new = service.name, scratch(service.name)
    events = chain.events_table(name)
    with connect(settings) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(new)))
    create_schema(settings, new)
    recorder = _recorder(settings, name, new)
    try:
        with connect(settings) as conn, connect(settings) as writer, writer.transaction():
            writer.execute(_compose(_ADD_HASHES, new, events))
            previous = b""
            for page in _replay(conn, service, name):
                people = {n for r in page if r.plain and (n := r.nominal) and n != ERASED}
                service.personal.keys_for(people)  # read or made at once, for the page
                rows = [_sealed_row(service, replayed) for replayed in page]
                previous = _insert(writer, new, events, rows, previous)
            _number_on(writer, (name, events), (new, events))
        outbox.install(
            recorder, name, service.wire, service.mapper.to_domain_event, service.sealer_for
        )
    finally:
        recorder.datastore.close()


def _recorder(settings: Settings, name: str, schema: str) -> OutboxRecorder:
    """The library's tables for the service's store, in `schema`."""
    env = settings.postgres_env(schema=schema)
    env["PROCESS_RECORDER_TOPIC"] = f"{OutboxRecorder.__module__}:{OutboxRecorder.__name__}"
    recorder = InfrastructureFactory.construct(Environment(name, env)).process_recorder()
    assert isinstance(recorder, OutboxRecorder)
    return recorder


def _sealed_row(service: EventSourcedService, replayed: Replayed) -> tuple[int, StoredEvent]:
    """The event as it is to be stored: sealed with its person's key where it held plain
    personal data (of a person erased since, those values as they now read), else as it was."""
    if not replayed.plain:
        return replayed.notification_id, replayed.row
    event = replayed.event
    if replayed.nominal == ERASED:
        return replayed.notification_id, _as_erased(service, event)
    assert replayed.nominal is not None
    with sealing_with({event.originator_id: service.personal.key_for(replayed.nominal)}):
        return replayed.notification_id, service.mapper.to_stored_event(event)


def _as_erased(service: EventSourcedService, event: Any) -> StoredEvent:
    state = service.personal_fields.seal(type(event), vars(event), lambda value: ERASED)
    copy = object.__new__(type(event))
    object.__setattr__(copy, "__dict__", state)
    return Mapper.to_stored_event(service.mapper, copy)


def _insert(
    writer: psycopg.Connection[Any],
    schema: str,
    table: str,
    rows: Sequence[tuple[int, StoredEvent]],
    previous: bytes,
) -> bytes:
    """Insert the rows with their hashes, chained on from `previous`; the last chain hash."""
    columns: list[list[Any]] = [[] for _ in range(7)]
    for notification_id, event in rows:
        content = chain.content_hash(
            cast(UUID, event.originator_id), event.originator_version, event.topic, event.state
        )
        previous = chain.chain_hash(previous, content)
        values = (notification_id, *dataclasses.astuple(event), content, previous)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    writer.execute(_compose(_INSERT, schema, table), columns)
    return previous


def _compose(statement: str, schema: str, table: str, old: str = "") -> sql.Composed:
    return sql.SQL(statement).format(
        schema=sql.Identifier(schema), table=sql.Identifier(table), old=sql.Identifier(old)
    )


_ADD_HASHES = (
    "ALTER TABLE {schema}.{table} ADD COLUMN content_hash bytea, ADD COLUMN chain_hash bytea"
)
_INSERT = """
INSERT INTO {schema}.{table}
    (notification_id, originator_id, originator_version, topic, state, content_hash, chain_hash)
SELECT * FROM unnest(
    %b::int8[], %b::uuid[], %b::int8[], %b::text[], %b::bytea[], %b::bytea[], %b::bytea[]
)"""


def _number_on(writer: psycopg.Connection[Any], old: tuple[str, str], new: tuple[str, str]) -> None:
    """The new log numbers its next event where the old one would have."""
    old_sequence, new_sequence = (_sequence(writer, *table) for table in (old, new))
    last = writer.execute(
        sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(old_sequence))
    ).fetchone()
    assert last is not None
    writer.execute("SELECT setval(%s, %s, %s)", (new_sequence, *last))


def _sequence(conn: psycopg.Connection[Any], schema: str, table: str) -> str:
    qualified = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    row = conn.execute(
        "SELECT pg_get_serial_sequence(%s, 'notification_id')", (qualified.as_string(conn),)
    ).fetchone()
    assert row is not None
    return str(row[0])


# Checking it


def _verify(settings: Settings, service: EventSourcedService) -> None:
    """The new store holds the old one's history, sealed, and its chain holds."""
    name, new = service.name, scratch(service.name)
    with connect(settings) as old_conn, connect(settings) as new_conn:
        old_pages = _replay(old_conn, service, name)
        new_pages = _replay(new_conn, service, new)
        for old_page, new_page in _zip_pages(old_pages, new_pages, new):
            for was, now in zip(old_page, new_page, strict=True):
                _same_event(service, was, now, new)
        report = chain.verify_chain(new_conn, name, new)
    if not report.intact:
        raise NotTheSameHistory(new, f"its hash chain is {report.describe()}")


def _zip_pages(
    old: Iterator[list[Replayed]], new: Iterator[list[Replayed]], schema: str
) -> Iterator[tuple[list[Replayed], list[Replayed]]]:
    for was, now in zip_longest(old, new):
        if was is None or now is None or len(was) != len(now):
            raise NotTheSameHistory(schema, "it holds a different number of events")
        yield was, now


def _same_event(service: EventSourcedService, was: Replayed, now: Replayed, schema: str) -> None:
    where = f"the event at notification {was.notification_id}"
    if (now.notification_id, now.row.originator_id, now.row.originator_version, now.row.topic) != (
        was.notification_id,
        was.row.originator_id,
        was.row.originator_version,
        was.row.topic,
    ):
        raise NotTheSameHistory(schema, f"{where} is another event")
    if now.plain:
        raise NotTheSameHistory(schema, f"{where} still holds plain personal data")
    expected = vars(was.event)
    if was.plain and was.nominal == ERASED:
        expected = service.personal_fields.seal(type(was.event), expected, lambda value: ERASED)
    if _comparable(vars(now.event)) != _comparable(expected):
        raise NotTheSameHistory(schema, f"{where} does not read as it did")


def _comparable(value: Any) -> Any:
    """A value as JSON would hold it: a sealed tuple opens as a list."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value


# Swapping it in


def _local_tables(store: Store, service: EventSourcedService) -> tuple[str, ...]:
    ddl = " ".join(projection.ddl for projection in store.local_projections(service))
    return tuple(dict.fromkeys(_TABLE_IN_DDL.findall(ddl)))


def _tables(settings: Settings, schema: str) -> list[str]:
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
        ).fetchall()
    return [row[0] for row in rows]


def _store_table(name: str, table: str) -> str:
    """What a table of the service's store is: `events`, `tracking`, `outbox`...."""
    return table.removeprefix(f"{name}_")


def _check_tables(settings: Settings, schema: str, local: Sequence[str]) -> None:
    known = {*CARRIED, *REMADE, *local}
    unknown = [t for t in _tables(settings, schema) if _store_table(schema, t) not in known]
    if unknown:
        raise UnknownTables(schema, unknown)


def _exists(settings: Settings, schema: str, table: str) -> bool:
    return table in _tables(settings, schema)


def _swap_in(settings: Settings, schema: str) -> None:
    """In one transaction: the new store takes the old one's place, with the tables the
    history does not make moved across, and the old one is dropped."""
    new, old = scratch(schema), _retired(schema)
    events = chain.events_table(schema)
    with connect(settings) as conn, conn.transaction():
        carried = [t for t in _tables(settings, schema) if _store_table(schema, t) in CARRIED]
        for table in carried:  # the scratch copy's tracking table is empty
            conn.execute(_compose("DROP TABLE IF EXISTS {schema}.{table}", new, table))
        conn.execute(_rename(schema, old))
        conn.execute(_rename(new, schema))
        for table in carried:
            conn.execute(
                _compose("ALTER TABLE {old}.{table} SET SCHEMA {schema}", schema, table, old)
            )
        conn.execute(_compose(_FORGET_PROJECTED, schema, f"{schema}_tracking"))
        with conn.cursor() as cursor:
            chain.install(cursor, schema, events)
        report = chain.verify_chain(conn, schema)
        if not report.intact:
            raise NotTheSameHistory(schema, f"its hash chain is {report.describe()}")
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(old)))


def _rename(schema: str, to: str) -> sql.Composed:
    return sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
        sql.Identifier(schema), sql.Identifier(to)
    )


# local read models that once followed the log start again from the beginning
_FORGET_PROJECTED = """
DELETE FROM {schema}.{table} WHERE application_name LIKE 'projection:%%'"""


def _open_once(settings: Settings, store: Store) -> None:
    """Open the store as the service does, which makes again what was left to it: the
    snapshots table, and the local read models from the whole history."""
    service = store.service(settings)
    try:
        service.keep_projections(*store.local_projections(service))
    finally:
        service.close()
