"""The key table answers after PostgreSQL has dropped every connection it held (a crash, a
restart, a failover): a pooled connection the server closed is not handed out again."""

from uuid import uuid4

import psycopg

from plumbing.keystore import StoredKey
from plumbing.keytable import PostgresKeys


def test_a_key_is_read_after_the_server_dropped_the_pooled_connections(database_url: str) -> None:
    keys = PostgresKeys(database_url)
    try:
        kept = StoredKey(uuid4(), b"wrapped", 1)
        keys.keep({b"lookup-of-a-synthetic-person": kept})
        assert keys.get([kept.key_id]) == {kept.key_id: kept}  # a connection now waits in the pool

        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

        assert keys.get([kept.key_id]) == {kept.key_id: kept}
        assert keys.find(b"lookup-of-a-synthetic-person") == kept
    finally:
        keys.close()
