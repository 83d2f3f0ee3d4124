"""Read models of a service's own events, each updated in one transaction with its position."""

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking

from plumbing.eventstore import EventSourcedService
from plumbing.follower import LogFollower

Apply = Callable[[Any, DomainEventProtocol], None]


class LocalProjection(LogFollower):
    """Follows the service's log and applies each event to tables `ddl` creates; the tables
    are written only here, and can be dropped and rebuilt by replay."""

    def __init__(self, service: EventSourcedService, name: str, ddl: str, apply: Apply) -> None:
        super().__init__(service, f"projection:{name}", self._project)
        self.ddl = ddl
        self.apply = apply

    def start(self) -> None:
        with self.service.process_recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.ddl)
        super().start()

    def _project(self, event: DomainEventProtocol, sequence: int) -> None:
        recorder = self.service.process_recorder
        with recorder.datastore.transaction(commit=True) as cursor:
            self.apply(cursor, event)
            # the library's own way to record a position inside a transaction of ours
            recorder._insert_tracking(cursor, Tracking(self.name, sequence))
