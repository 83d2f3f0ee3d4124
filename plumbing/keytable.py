"""The key table in PostgreSQL: schema `keys` of the services' database, or of a database
of its own (`PERSONAL_KEYS_DATABASE_URL`). It connects on first use, and tells every process
that listens when a key is destroyed."""

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Connection
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from plumbing.keystore import StoredKey
from plumbing.listening import listening

SCHEMA = "keys"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.person_keys (
    key_id uuid PRIMARY KEY,
    lookup bytea NOT NULL UNIQUE,
    wrapped bytea NOT NULL,
    master_version integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.destroyed (
    key_id uuid PRIMARY KEY,
    destroyed_at timestamptz NOT NULL DEFAULT now()
);
"""
KEY_COLUMNS = f"SELECT key_id, wrapped, master_version FROM {SCHEMA}.person_keys"
DESTROYED = "civil_orders_key_destroyed"  # the channel every process listens on
KEY_ROWS = f"SELECT lookup, key_id, wrapped, master_version FROM {SCHEMA}.person_keys"
KEPT = f"{KEY_ROWS} WHERE lookup = ANY(%b)"
KEEP = f"""
WITH made AS (
    INSERT INTO {SCHEMA}.person_keys (key_id, lookup, wrapped, master_version)
    SELECT * FROM unnest(%b::uuid[], %b::bytea[], %b::bytea[], %b::int4[])
    ON CONFLICT (lookup) DO NOTHING
    RETURNING lookup, key_id, wrapped, master_version
)
SELECT * FROM made
UNION ALL {KEPT} AND lookup NOT IN (SELECT lookup FROM made)
"""


def _by_lookup(rows: Iterable[tuple[bytes, UUID, bytes, int]]) -> dict[bytes, StoredKey]:
    return {bytes(lookup): StoredKey(key_id, bytes(w), v) for lookup, key_id, w, v in rows}


class PostgresKeys:
    """The key table in PostgreSQL, schema `keys`: the services' database by default, or a
    database of its own. Connects on first use."""

    def __init__(self, database_url: str, create: bool = True) -> None:
        self.database_url = database_url
        self.pool = ConnectionPool(
            database_url,
            min_size=0,
            max_size=4,
            open=False,
            kwargs={"autocommit": True},
            # one the server has closed (it crashed, restarted, failed over) is not handed out
            check=ConnectionPool.check_connection,
        )
        self.create = create
        self._opened = threading.Lock()
        self._ready = False
        self._closed = threading.Event()

    def _connection(self) -> Any:
        if not self._ready:
            with self._opened:
                if not self._ready:
                    self.pool.open()
                    if self.create:
                        with self.pool.connection() as conn:
                            self._install(conn)
                    self._ready = True
        return self.pool.connection()

    def install(self) -> None:
        """Create the key store's schema and tables now, if they are missing."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            self._install(conn)

    @staticmethod
    def _install(conn: Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('civil-orders:keys'))")
            conn.execute(DDL)

    def _one(self, where: str, value: object) -> StoredKey | None:
        with self._connection() as conn, conn.cursor(row_factory=class_row(StoredKey)) as cur:
            found: StoredKey | None = cur.execute(
                f"{KEY_COLUMNS} WHERE {where} = %s", (value,)
            ).fetchone()
            return found

    def find(self, lookup: bytes) -> StoredKey | None:
        return self._one("lookup", lookup)

    def get(self, key_ids: Collection[UUID]) -> dict[UUID, StoredKey]:
        with self._connection() as conn, conn.cursor(row_factory=class_row(StoredKey)) as cur:
            cur.execute(f"{KEY_COLUMNS} WHERE key_id = ANY(%b)", (list(key_ids),))
            return {stored.key_id: stored for stored in cur.fetchall()}

    def keep(self, keys: Mapping[bytes, StoredKey]) -> dict[bytes, StoredKey]:
        """In one round trip, mostly: a key kept meanwhile by a transaction this statement
        could not see is read by another. In lookup order, so that two processes keeping
        keys for the same people at once never wait on each other in a circle."""
        lookups = sorted(keys)
        columns = (
            [keys[k].key_id for k in lookups],
            lookups,
            [keys[k].wrapped for k in lookups],
            [keys[k].master_version for k in lookups],
        )
        with self._connection() as conn:
            kept = _by_lookup(conn.execute(KEEP, (*columns, lookups)).fetchall())
            if missing := [k for k in lookups if k not in kept]:
                kept |= _by_lookup(conn.execute(KEPT, (missing,)).fetchall())
        return kept

    def destroy(self, key_id: UUID) -> None:
        with self._connection() as conn, conn.transaction():
            conn.execute(f"DELETE FROM {SCHEMA}.person_keys WHERE key_id = %s", (key_id,))
            conn.execute(
                f"INSERT INTO {SCHEMA}.destroyed (key_id) VALUES (%s) ON CONFLICT DO NOTHING",
                (key_id,),
            )
            conn.execute("SELECT pg_notify(%s, %s)", (DESTROYED, str(key_id)))

    def wrapped_before(self, version: int) -> list[StoredKey]:
        with self._connection() as conn, conn.cursor(row_factory=class_row(StoredKey)) as cur:
            where = "WHERE master_version < %s ORDER BY key_id LIMIT 1000"
            keys: list[StoredKey] = cur.execute(f"{KEY_COLUMNS} {where}", (version,)).fetchall()
            return keys

    def rewrap(self, key: StoredKey) -> None:
        with self._connection() as conn:
            conn.execute(
                f"UPDATE {SCHEMA}.person_keys SET wrapped = %s, master_version = %s"
                " WHERE key_id = %s",
                (key.wrapped, key.master_version, key.key_id),
            )

    def watch(self, forget: Callable[[UUID | None], None]) -> None:
        """Listen, on a connection of its own in a thread of its own, for keys destroyed
        (`forget(None)` whenever listening begins: whatever was destroyed while nobody
        listened)."""

        def heard(key_id: str | None) -> None:
            forget(UUID(key_id) if key_id else None)

        listening("keys", self.database_url, DESTROYED, heard, self._closed)

    def close(self) -> None:
        self._closed.set()
        self.pool.close()
