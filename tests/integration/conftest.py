"""One embedded PostgreSQL server for the integration tests of this folder."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from civil_orders.stack.embedded import start_postgres


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_postgres(Path(tmp_path_factory.mktemp("postgres")))
    try:
        yield server.get_uri("civil_orders")
    finally:
        server.cleanup()
