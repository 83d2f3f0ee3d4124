"""Tamper evidence: each service's stored events form a hash chain, checkable read-only.

Every stored event carries `content_hash`, a SHA-256 over its originator id, version, topic
and state (each field length-prefixed), and `chain_hash`, a SHA-256 over its predecessor's
`chain_hash` (nothing, for the first event) and its own `content_hash`. A trigger computes
both as the event is inserted. The predecessor is the event with the next lower notification
id: the library locks the events table for each insert (`LOCK TABLE ... IN EXCLUSIVE MODE`),
so inserts are serialised and notification order is commit order.

Verifying recomputes both hashes in Python with SELECT alone, so an auditor needs no write
access. A writer who rewrites every hash from some event onwards, or drops the newest events,
is not caught by the chain alone: compare the newest `chain_hash` with one kept elsewhere.
"""

import dataclasses
import hashlib
import struct
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from plumbing.settings import EVENT_STORES

_FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION {schema}.chain_field(value bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE AS $$
        SELECT int4send(coalesce(length(value), -1)) || coalesce(value, '')
    $$
    """,
    # STABLE, as convert_to is: PostgreSQL inlines a SQL function into its caller only when
    # it is declared no less volatile than its body, and one called instead of inlined, once
    # an event, had been a third of what the trigger cost
    """
    CREATE OR REPLACE FUNCTION {schema}.chain_content(
        originator_id uuid, originator_version bigint, topic text, state bytea
    ) RETURNS bytea LANGUAGE sql STABLE AS $$
        SELECT sha256(
            {schema}.chain_field(uuid_send(originator_id))
            || {schema}.chain_field(int8send(originator_version))
            || {schema}.chain_field(convert_to(topic, 'UTF8'))
            || {schema}.chain_field(state)
        )
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION {schema}.chain_next(previous bytea, content bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE AS $$
        SELECT sha256(coalesce(previous, '') || content)
    $$
    """,
    # VOLATILE, so that within one multi-row INSERT each row sees the rows before it
    """
    CREATE OR REPLACE FUNCTION {schema}.chain_previous(next_id bigint) RETURNS bytea
    LANGUAGE sql VOLATILE AS $$
        SELECT chain_hash FROM {schema}.{table}
        WHERE notification_id < next_id ORDER BY notification_id DESC LIMIT 1
    $$
    """,
    # The event before is most often the one this transaction stored last: its position and
    # chain hash are kept for the rest of the transaction (a setting made local, which a
    # rollback to a savepoint undoes with the rows), so only a transaction's first event
    # looks its predecessor up.
    """
    CREATE OR REPLACE FUNCTION {schema}.chain_stored_event() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        last_stored text := current_setting('civil_orders.chain_' || TG_RELID, true);
        previous bytea;
    BEGIN
        NEW.content_hash := {schema}.chain_content(
            NEW.originator_id, NEW.originator_version, NEW.topic, NEW.state
        );
        IF split_part(last_stored, ':', 1) = (NEW.notification_id - 1)::text THEN
            previous := decode(split_part(last_stored, ':', 2), 'hex');
        ELSE
            previous := {schema}.chain_previous(NEW.notification_id);
        END IF;
        NEW.chain_hash := {schema}.chain_next(previous, NEW.content_hash);
        PERFORM set_config(
            'civil_orders.chain_' || TG_RELID,
            NEW.notification_id || ':' || encode(NEW.chain_hash, 'hex'),
            true
        );
        RETURN NEW;
    END
    $$
    """,
    # made by earlier versions, replaced by chain_previous and chain_next
    "DROP FUNCTION IF EXISTS {schema}.chain_link(bigint, bytea)",
)
_ADD_COLUMNS = """
    ALTER TABLE {schema}.{table}
    ADD COLUMN IF NOT EXISTS content_hash bytea, ADD COLUMN IF NOT EXISTS chain_hash bytea
"""
_BACKFILL = (
    """
    UPDATE {schema}.{table}
    SET content_hash = {schema}.chain_content(originator_id, originator_version, topic, state)
    WHERE content_hash IS NULL
    """,
    """
    DO $$
    DECLARE row_id bigint;
    BEGIN
        FOR row_id IN
            SELECT notification_id FROM {schema}.{table}
            WHERE chain_hash IS NULL ORDER BY notification_id
        LOOP
            UPDATE {schema}.{table}
            SET chain_hash = {schema}.chain_next({schema}.chain_previous(row_id), content_hash)
            WHERE notification_id = row_id;
        END LOOP;
    END
    $$
    """,
)
_TRIGGER = """
    CREATE TRIGGER chain_stored_event BEFORE INSERT ON {schema}.{table}
    FOR EACH ROW EXECUTE FUNCTION {schema}.chain_stored_event()
"""


def events_table(service: str) -> str:
    return f"{service}_events"  # as the library names an application's events table


def install(cursor: psycopg.Cursor[Any], schema: str, table: str) -> None:
    """Give the events table its hash columns and trigger, hashing events stored before them;
    the functions are made again each time, so a store gets this version's.

    Run at every start, inside a transaction; replicas starting together take turns.
    """
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"civil-orders:chain:{schema}",))
    installed = _installed(cursor, schema, table)
    if not installed:
        cursor.execute(_compose(_ADD_COLUMNS, schema, table))
    for statement in _FUNCTIONS:
        cursor.execute(_compose(statement, schema, table))
    if not installed:
        for statement in (*_BACKFILL, _TRIGGER):
            cursor.execute(_compose(statement, schema, table))


def _installed(cursor: psycopg.Cursor[Any], schema: str, table: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_trigger WHERE tgname = 'chain_stored_event'"
        " AND tgrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))",
        (schema, table),
    )
    return cursor.fetchone() is not None


def _compose(statement: str, schema: str, table: str) -> sql.Composed:
    return sql.SQL(statement).format(schema=sql.Identifier(schema), table=sql.Identifier(table))


def _field(value: bytes | None) -> bytes:
    if value is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(value)) + value


def content_hash(
    originator_id: UUID, version: int, topic: str | None, state: bytes | None
) -> bytes:
    encoded = (
        _field(originator_id.bytes)
        + _field(struct.pack(">q", version))
        + _field(None if topic is None else topic.encode())
        + _field(state)
    )
    return hashlib.sha256(encoded).digest()


def chain_hash(previous: bytes | None, content: bytes) -> bytes:
    return hashlib.sha256((previous or b"") + content).digest()


@dataclasses.dataclass(frozen=True)
class StoredRow:
    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str | None
    state: bytes | None
    content_hash: bytes | None
    chain_hash: bytes | None


@dataclasses.dataclass(frozen=True)
class Break:
    """The first event whose hashes do not hold: its own content changed since it was stored
    ("content"), or it no longer follows the event before it ("link")."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    wrong: Literal["content", "link"]

    def describe(self) -> str:
        what = {"content": "does not match its hash", "link": "does not follow the one before it"}
        return (
            f"broken: the event at notification {self.notification_id} "
            f"(originator {self.originator_id}, version {self.originator_version}) "
            f"{what[self.wrong]}"
        )


@dataclasses.dataclass(frozen=True)
class ChainReport:
    service: str
    events_checked: int
    first_break: Break | None

    @property
    def intact(self) -> bool:
        return self.first_break is None

    def describe(self) -> str:
        return "intact" if self.first_break is None else self.first_break.describe()


def verify(database_url: str, services: Iterable[str] = EVENT_STORES) -> list[ChainReport]:
    """Each service's chain, read in one READ ONLY transaction per service."""
    with psycopg.connect(database_url) as connection:
        connection.read_only = True
        return [verify_chain(connection, service) for service in services]


def verify_chain(
    connection: psycopg.Connection[Any], service: str, schema: str | None = None
) -> ChainReport:
    """The service's chain, in its own schema or in `schema` (a copy of its store)."""
    with connection.transaction():
        rows = _stored_rows(connection, schema or service, events_table(service))
        checked, first_break = _first_break(rows)
    return ChainReport(service, checked, first_break)


def _stored_rows(
    connection: psycopg.Connection[Any], schema: str, table: str
) -> Iterator[StoredRow]:
    exists = connection.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, table)
    ).fetchone()
    if exists is None or exists[0] is None:
        return
    select = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state,"
        " content_hash, chain_hash FROM {}.{} ORDER BY notification_id"
    ).format(sql.Identifier(schema), sql.Identifier(table))
    with connection.cursor(name=f"chain_{schema}", row_factory=class_row(StoredRow)) as cursor:
        cursor.itersize = 1000
        yield from cursor.execute(select)


def _first_break(rows: Iterable[StoredRow]) -> tuple[int, Break | None]:
    checked, previous, first = 0, b"", None
    for row in rows:
        checked += 1
        first = first or _break_at(row, previous)
        previous = row.chain_hash or b""
    return checked, first


def _break_at(row: StoredRow, previous: bytes) -> Break | None:
    content = content_hash(row.originator_id, row.originator_version, row.topic, row.state)
    if row.content_hash != content:
        wrong: Literal["content", "link"] = "content"
    elif row.chain_hash != chain_hash(previous, content):
        wrong = "link"
    else:
        return None
    return Break(row.notification_id, row.originator_id, row.originator_version, wrong)
