"""Read models of a service's own events, written in the transaction that stores them.

A local projection keeps tables in the service's schema that only it writes. Each save
applies the new events to them in the transaction that stores the events (so a read model
is never behind its service's log, and costs no read of the log and no transaction of its
own), and records how far each projection has got. When the service starts, each is brought
up to date from the log under the log's lock: events stored before it existed, or by a
replica that ran without it.

A handler writes only rows of its event's own aggregate, through the cursor it is given; a
save's statements are sent in steps (see `plumbing.steps`).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from plumbing.steps import in_steps

# Writes what one event changes, with the cursor of the transaction that stores it.
Apply = Callable[[Any, Any], None]
Steps = list[dict[str, list[Sequence[Any]]]]


class LocalProjection:
    def __init__(self, name: str, ddl: str, handlers: Mapping[type, Apply]) -> None:
        """Each event of a type in `handlers` is handed to its handler, in the order the
        events are stored; no other event is read. `ddl` creates the tables."""
        self.name = name
        self.ddl = ddl
        self.handlers = dict(handlers)
        self.topics = sorted(get_topic(kind) for kind in self.handlers)

    def project(self, cursor: Any, events: Iterable[DomainEventProtocol[UUID]]) -> None:
        send(cursor, self.steps(events))

    def steps(self, events: Iterable[DomainEventProtocol[UUID]]) -> Steps:
        """The statements that apply the events, in steps (`plumbing.steps`): made before the
        transaction that sends them, so the handlers' work is not done under its locks."""
        statements = Statements()
        for event in events:
            if (handle := self.handlers.get(type(event))) is not None:
                statements.aggregate = event.originator_id
                handle(statements, event)
        return in_steps(statements.written)


def send(cursor: Any, steps: Steps) -> None:
    for step in steps:
        for query, params in step.items():
            cursor.executemany(query, params)


class Statements:
    """Stands in for the cursor a handler writes with: keeps each statement, with the
    aggregate of the event it applies, to be sent in steps."""

    def __init__(self) -> None:
        self.aggregate: UUID | None = None
        self.written: list[tuple[UUID | None, str, Sequence[Any]]] = []

    def execute(self, query: str, params: Sequence[Any] = ()) -> None:
        self.written.append((self.aggregate, query, params))


def update_row(cursor: Any, table: str, key: tuple[str, object], **columns: object) -> None:
    """Set these columns of the row of `table` whose `key` column has the key's value."""
    assignments = ", ".join(f"{column} = %s" for column in columns)
    cursor.execute(
        f"UPDATE {table} SET {assignments} WHERE {key[0]} = %s", (*columns.values(), key[1])
    )
