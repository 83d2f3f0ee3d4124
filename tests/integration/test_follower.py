"""A service's log followers (the outbox relay, the alert dispatcher) wake when events are
stored, by this process or another, through the one connection that listens for the whole
process: a follower holds no listening connection of its own. PostgreSQL wakes every
connection listening in the database at each save, whatever its channel."""

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Aggregate, DomainEventProtocol

from plumbing.eventstore import EventSourcedService
from plumbing.follower import Follower, events_after
from plumbing.settings import Settings
from tests.waiting import eventually


class Thing(Aggregate):
    def __init__(self, label: str) -> None:
        self.label = label


class Followed(EventSourcedService):
    name = "followed"


@pytest.fixture
def services(database_url: str) -> Iterator[list[Followed]]:
    made: list[Followed] = []
    yield made
    for service in made:
        service.close()


def opened(database_url: str, services: list[Followed]) -> Followed:
    service = Followed(Settings(database_url=database_url, kafka_bootstrap_servers="unused:9092"))
    services.append(service)
    return service


def listening_to(database_url: str, channel: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = %s",
            (f'LISTEN "{channel}"',),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_follower_wakes_on_stores_heard_by_its_service(
    database_url: str, services: list[Followed]
) -> None:
    service = opened(database_url, services)
    handled: list[str] = []

    def handle(page: Sequence[tuple[DomainEventProtocol[UUID], int]]) -> None:
        handled.extend(getattr(event, "label", "") for event, _ in page)

    follower: Follower[Any] = Follower(service, "test", events_after(service, Thing), handle)
    follower.start()
    try:
        eventually(lambda: service.hearing and follower.leading, "the follower to lead", 10.0)
        service.save(Thing("stored here"))
        eventually(lambda: handled == ["stored here"], "the follower to hand it on", 10.0)

        channel = service.process_recorder.channel_name
        assert listening_to(database_url, channel) == 1  # the service's, not the follower's

        another = opened(database_url, services)  # as another process stores
        another.save(Thing("stored elsewhere"))
        eventually(
            lambda: handled == ["stored here", "stored elsewhere"],
            "the follower to hand on what another process stored",
            10.0,
        )
    finally:
        follower.stop()


def test_a_follower_whose_connection_ends_gives_up_the_lead(
    database_url: str, services: list[Followed]
) -> None:
    """The lead is a lock held by the follower's connection: when the connection ends (the
    database restarted, say), the lock goes with it, and the follower must stop following
    until it holds the lock again, or two replicas would follow at once."""
    service = opened(database_url, services)

    def ignore(page: Sequence[tuple[DomainEventProtocol[UUID], int]]) -> None:
        pass

    followers: list[Follower[Any]] = [
        Follower(service, "lead", events_after(service, Thing), ignore, retry_seconds=0.1)
        for _ in range(2)
    ]
    for follower in followers:
        follower.start()
    try:
        eventually(lambda: any(f.leading for f in followers), "one to lead", 10.0)
        first = next(f for f in followers if f.leading)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                " AND objid = hashtext(%s)::oid",
                (f"civil-orders:{service.name}:lead",),
            )
        eventually(lambda: not first.leading, "the first to give up the lead", 10.0)
        eventually(
            lambda: sum(f.leading for f in followers) == 1, "one of them to lead again", 10.0
        )
    finally:
        for follower in followers:
            follower.stop()
