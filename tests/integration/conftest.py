"""One embedded PostgreSQL server for the integration tests of this folder."""

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from civil_orders.stack.embedded import start_postgres
from services.readmodels.main import PROJECTIONS


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_postgres(Path(tmp_path_factory.mktemp("postgres")))
    try:
        yield server.get_uri("civil_orders")
    finally:
        server.cleanup()


@pytest.fixture
async def own_database(database_url: str) -> AsyncIterator[str]:
    """A database of this test's own on the server (its name), dropped after the test."""
    name = f"test_{secrets.token_hex(4)}"
    server = await asyncpg.connect(database_url)
    await server.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        await server.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await server.close()


@pytest.fixture
async def read_models(database_url: str, own_database: str) -> AsyncIterator[asyncpg.Connection]:
    """Every read model's tables, empty, in a database of this test's own."""
    connection = await asyncpg.connect(database_url, database=own_database)
    for projection in PROJECTIONS:
        await projection.create(connection)
    try:
        yield connection
    finally:
        await connection.close()
