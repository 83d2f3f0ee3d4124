"""Read models of a service's own events, written in the transaction that stores them.

A local projection keeps tables in the service's schema that only it writes. Each save
applies the new events to them in the transaction that stores the events (so a read model
is never behind its service's log, and costs no read of the log and no transaction of its
own), and records how far each projection has got. When the service starts, each is brought
up to date from the log under the log's lock: events stored before it existed, or by a
replica that ran without it.
"""

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate, DomainEventProtocol
from eventsourcing.utils import get_topic

Apply = Callable[[Any, DomainEventProtocol[UUID]], None]


class LocalProjection:
    def __init__(self, name: str, ddl: str, apply: Apply, *of: type) -> None:
        """`apply(cursor, event)` is handed the events of the aggregate classes `of`, in
        the order they are stored, and no others; `ddl` creates its tables."""
        self.name = name
        self.ddl = ddl
        self.apply = apply
        self.kinds = frozenset(
            kind
            for aggregate in of
            for kind in vars(aggregate).values()
            if isinstance(kind, type) and issubclass(kind, CanMutateAggregate)
        )
        self.topics = sorted(get_topic(kind) for kind in self.kinds)

    def project(self, cursor: Any, events: Iterable[DomainEventProtocol[UUID]]) -> None:
        for event in events:
            if type(event) in self.kinds:
                self.apply(cursor, event)
