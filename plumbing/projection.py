"""Read models of a service's own events, each updated a page at a time with its position."""

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking

from plumbing.eventstore import EventSourcedService
from plumbing.follower import LogFollower, events_after

Apply = Callable[[Any, DomainEventProtocol[UUID]], None]


class LocalProjection(LogFollower):
    """Follows the service's log and applies each page of events to tables `ddl` creates, in
    one transaction with the page's position; the tables are written only here, and can be
    dropped and rebuilt by replay."""

    def __init__(
        self, service: EventSourcedService, name: str, ddl: str, apply: Apply, *of: type
    ) -> None:
        """`apply` is handed the events of the aggregate classes `of`, and no others."""
        super().__init__(service, f"projection:{name}", events_after(service, *of), self._project)
        self.ddl = ddl
        self.apply = apply

    def start(self) -> None:
        with self.service.process_recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.ddl)
        super().start()

    def _project(self, page: Sequence[tuple[DomainEventProtocol[UUID], int]]) -> None:
        recorder = self.service.process_recorder
        with recorder.datastore.transaction(commit=True) as cursor:
            for event, _ in page:
                self.apply(cursor, event)
            recorder.track(cursor, Tracking(self.name, page[-1][1]))
