"""A service's read models of its own events are written with the events: current the moment
a save returns, filled from the history when a projection is new, and never applied twice
(however often the service starts, and whether the projection once followed the log)."""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking

from civil_orders.stack.embedded import Stack
from plumbing.projection import LocalProjection
from plumbing.settings import Settings
from services.breach.application import BreachService
from services.breach.domain import SubjectBreaches


class Breaches(BreachService):
    """The breach service's store, in a schema of the test's own."""

    name = "projected_breach"


def counting(name: str) -> LocalProjection:
    """Writes a row for every event it is handed (no key: an event applied twice shows)."""
    table = f"projected_breach.{name}"

    def apply(cursor: Any, event: DomainEventProtocol[Any]) -> None:
        cursor.execute(
            f"INSERT INTO {table} VALUES (%s, %s)",
            (event.originator_id, event.originator_version),
        )

    ddl = f"CREATE TABLE IF NOT EXISTS {table} (subject uuid, version int)"
    return LocalProjection(
        name, ddl, {SubjectBreaches.Started: apply, SubjectBreaches.BreachCounted: apply}
    )


def rows(service: Breaches, name: str) -> list[tuple[Any, int]]:
    with service.process_recorder.datastore.cursor() as cursor:
        cursor.execute(f"SELECT subject, version FROM projected_breach.{name} ORDER BY 2")
        return [(row["subject"], row["version"]) for row in cursor.fetchall()]


def breaches(service: Breaches, history: SubjectBreaches, count: int) -> None:
    for _ in range(count):
        history.count_breach(uuid4())
        service.save(history)


@pytest.fixture
def settings(stack: Stack) -> Settings:
    return Settings(database_url=stack.database_url, kafka_bootstrap_servers="unused:9092")


@pytest.fixture
def service(settings: Settings) -> Iterator[Breaches]:
    service = Breaches(settings)
    yield service
    service.close()


def test_a_local_projection_is_filled_from_the_history_then_kept_with_every_save(
    settings: Settings, service: Breaches
) -> None:
    history = SubjectBreaches(subject_nominal_id=f"SYN-{uuid4()}")
    breaches(service, history, 2)  # stored before the projection existed

    service.keep_projections(counting("seen"))
    filled = rows(service, "seen")
    breaches(service, history, 2)
    kept = rows(service, "seen")
    restarted = Breaches(settings)
    restarted.keep_projections(counting("seen"))  # the service starts again: nothing new
    breaches(restarted, restarted.repository.get(history.id), 1)
    restarted.close()

    assert filled == [(history.id, 1), (history.id, 2), (history.id, 3)]
    assert kept == [*filled, (history.id, 4), (history.id, 5)]  # as each save returned
    assert rows(service, "seen") == [*kept, (history.id, 6)]


def test_a_projection_that_followed_the_log_carries_on_from_its_tracking_record(
    service: Breaches,
) -> None:
    history = SubjectBreaches(subject_nominal_id=f"SYN-{uuid4()}")
    breaches(service, history, 1)
    [*_, applied] = service.recorder.select_notifications(0, 10_000)
    # as a follower of the log recorded it, having applied everything up to here
    service.process_recorder.insert_tracking(Tracking("projection:followed", applied.id))
    breaches(service, history, 1)

    service.keep_projections(counting("followed"))

    assert rows(service, "followed") == [(history.id, 3)]
