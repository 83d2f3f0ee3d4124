"""The event stores talk to PostgreSQL through psycopg's compiled libpq wrapper: the pure
Python one costs about half of an event-store service's CPU."""

import psycopg


def test_psycopg_uses_its_compiled_implementation() -> None:
    assert psycopg.pq.__impl__ in ("binary", "c"), (
        f"psycopg runs its {psycopg.pq.__impl__} implementation: install psycopg[binary]"
    )
