"""Test tiers: unit tests need nothing; integration and e2e tests get one real stack per run.

The stack is external PostgreSQL and Kafka where DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS
name them, otherwise the embedded PostgreSQL server and the embedded Tansu broker.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from civil_orders.client import Client
from civil_orders.stack import Stack, running_stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = Path(os.environ.get("CIVIL_ORDERS_TEST_DATA") or tmp_path_factory.mktemp("stack"))
    with running_stack(data_dir) as running:
        yield running


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[Client]:
    urls = {name: stack.url(name) for name in stack.ports}
    async with Client(urls, stack.bootstrap_servers, stack.database_url) as connected:
        yield connected
