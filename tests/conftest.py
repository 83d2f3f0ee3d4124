"""Test tiers: unit and service-layer tests need nothing; e2e tests get one real stack per
run.

The stack is external PostgreSQL and Kafka where DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS
name them; Apache Kafka and PostgreSQL containers where a Docker engine is reachable;
otherwise the embedded PostgreSQL server and the embedded Tansu broker.
"""

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack, running_stack
from plumbing.settings import ClockSettings
from schemas import dates


def a_clock_that_keeps_its_day() -> None:
    """One clock for the run: noon today when it starts, for these tests (which date what
    they send, and what they expect, by `schemas.dates`) and for every process they start
    (which inherit CLOCK_OFFSET_SECONDS). A run that crosses midnight still sees one day,
    where "today" at the start and the services' today came to differ half way through."""
    real = datetime.now(UTC)
    noon = datetime.combine(real.date(), time(12), UTC)
    os.environ.setdefault("CLOCK_OFFSET_SECONDS", str((noon - real).total_seconds()))
    dates.judge_dates_by(ClockSettings().current_time)


a_clock_that_keeps_its_day()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "service", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


def docker_reachable() -> bool:
    try:
        import docker

        return bool(docker.from_env(timeout=3).ping())
    except Exception:
        return False


@contextmanager
def containers_where_docker_runs() -> Iterator[None]:
    if os.environ.get("DATABASE_URL") or not docker_reachable():
        yield
        return
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer("postgres:16-alpine") as postgres,
        KafkaContainer() as kafka,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("DATABASE_URL", postgres.get_connection_url(driver=None))
        env.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka.get_bootstrap_server())
        env.setenv("KAFKA_IDEMPOTENCE", "true")
        yield


# Alerts escalate after seconds rather than hours, and retries wait a tenth of a second.
FAST_ALERTS = {
    "ALERT_ACK_TIMEOUT_SECONDS": "3",
    "ALERT_ACK_CHECK_SECONDS": "0.5",
    "ALERT_RETRY_BASE_SECONDS": "0.1",
    "ALERT_SEND_TIMEOUT_SECONDS": "2",
    "ORDER_CALENDAR_CHECK_SECONDS": "0.5",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = Path(os.environ.get("CIVIL_ORDERS_TEST_DATA") or tmp_path_factory.mktemp("stack"))
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAST_ALERTS.items():
            env.setenv(name, value)
        with containers_where_docker_runs(), running_stack(data_dir, usual_ports=False) as running:
            yield running


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[Client]:
    async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as connected:
        yield connected
