"""The peer the benchmark sets civil-orders beside: the eventsourcing library's own in-process
`System` doing referral → order → alert on the same PostgreSQL.

Three applications, each in its own schema: Referrals records a referral; Orders, a process
application, grants an order when a referral is received; Alerts records an alert when an
order is granted. `SingleThreadedRunner` takes each case through all three before the next
one starts, every step stored with the position it reacts to, as the library does it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, event
from eventsourcing.system import ProcessApplication, SingleThreadedRunner, System
from psycopg import sql

from plumbing.settings import Settings


class PeerReferral(Aggregate):
    class Received(Aggregate.Created):
        district: str
        reference: str

    @event(Received)
    def __init__(self, district: str, reference: str) -> None:
        self.district = district
        self.reference = reference


class PeerOrder(Aggregate):
    class Granted(Aggregate.Created):
        referral_id: UUID
        district: str

    @event(Granted)
    def __init__(self, referral_id: UUID, district: str) -> None:
        self.referral_id = referral_id
        self.district = district


class PeerAlert(Aggregate):
    class Recorded(Aggregate.Created):
        order_id: UUID
        team: str

    @event(Recorded)
    def __init__(self, order_id: UUID, team: str) -> None:
        self.order_id = order_id
        self.team = team


class Referrals(Application[UUID]):
    def refer(self, district: str, reference: str) -> UUID:
        referral = PeerReferral(district, reference)
        self.save(referral)
        return referral.id


class Orders(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """When a referral is received, grant an order; other events change nothing."""

    @policy.register
    def _(self, received: PeerReferral.Received, processing_event: ProcessingEvent[UUID]) -> None:
        processing_event.collect_events(PeerOrder(received.originator_id, received.district))


class Alerts(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """When an order is granted, record an alert to its team; other events change nothing."""

    @policy.register
    def _(self, granted: PeerOrder.Granted, processing_event: ProcessingEvent[UUID]) -> None:
        team = f"mosovo-{granted.district}"
        processing_event.collect_events(PeerAlert(granted.originator_id, team))


PEER = System(pipes=[[Referrals, Orders, Alerts]])
SCHEMAS = {app.name: f"peer_{app.name.lower()}" for app in (Referrals, Orders, Alerts)}


@dataclass(frozen=True)
class PeerRun:
    cases: int
    stored_events: int
    seconds: float


class Peer:
    """The peer on the same PostgreSQL, in fresh schemas of its own, configured as civil-orders
    configures its event stores; stopping it drops the schemas."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        settings = Settings(database_url=database_url, kafka_bootstrap_servers="")
        self.env = settings.postgres_env("public") | {
            f"{name.upper()}_POSTGRES_SCHEMA": schema for name, schema in SCHEMAS.items()
        }
        self.runner: SingleThreadedRunner[UUID] | None = None

    def start(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            _drop_schemas(connection)
            for schema in SCHEMAS.values():
                connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.runner = SingleThreadedRunner[UUID](PEER, env=self.env)
        self.runner.start()

    def run(self, cases: int, advance: Callable[[], None]) -> PeerRun:
        """Take `cases` referrals through to their alerts, one at a time; count what was stored."""
        assert self.runner is not None, "start the peer first"
        referrals = self.runner.get(Referrals)
        districts = ("north", "south", "east", "west")
        began = time.perf_counter()
        for number in range(cases):
            referrals.refer(districts[number % len(districts)], f"PEER-{number:06d}")
            advance()
        seconds = time.perf_counter() - began
        # fresh tables, nothing rolled back: the highest notification id is the count
        stored = sum(app.recorder.max_notification_id() or 0 for app in self.runner.apps.values())
        return PeerRun(cases, stored, seconds)

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            _drop_schemas(connection)


def _drop_schemas(connection: psycopg.Connection[Any]) -> None:
    for schema in SCHEMAS.values():
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
