"""Following a service's own log in batches: the outbox relay and other local reactions.

The event store NOTIFYs a channel in every transaction that stores events, and the service
LISTENs on it for the whole process (`EventSourcedService.wait_for_store`); a follower wakes
when events are stored, not on a timer, and then reads everything stored since its
position, a page at a time.
"""

import select
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar
from uuid import UUID

import psycopg
import structlog
from eventsourcing.domain import CanMutateAggregate, DomainEventProtocol
from eventsourcing.utils import get_topic

from plumbing.eventstore import EventSourcedService, connect

log = structlog.get_logger()

T = TypeVar("T")
# A page of what the log holds after a position (up to a limit), each item with its position.
Read = Callable[[int, int], Sequence[tuple[T, int]]]
Handle = Callable[[Sequence[tuple[T, int]]], None]
QUIET_SECONDS = 0.5  # how long the log is quiet before a follower settles; how soon it stops


class Follower(Generic[T]):
    """Hands what the service's log holds after its position to `handle`, a page at a time,
    in log order, on its own thread.

    `handle` records the position of the page's last item (a tracking record named `name`)
    in the transaction that does its work, so a restart resumes after the last page it
    finished. A failing `handle` is retried, never skipped. `settle` is called whenever the
    follower has caught up and waited a while for more, and when it stops: a follower whose
    work may safely be done again records its position there (see `OutboxRelay`).
    """

    def __init__(
        self,
        service: EventSourcedService,
        name: str,
        read: Read[T],
        handle: Handle[T],
        page: int = 500,
        retry_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self.name = name
        self.read = read
        self.handle = handle
        self.page = page
        self.retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self.leading = False
        self._thread = threading.Thread(target=self._run, name=f"follow-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Returns once the thread has finished: a page it was handling is done or failed."""
        self._stopping.set()
        self._thread.join()

    def running(self) -> bool:
        return self._thread.is_alive()

    def position(self) -> int:
        return self.service.process_recorder.max_tracking_id(self.name) or 0

    def head(self) -> int:
        """The position of the newest item this follower will be handed."""
        return self.service.recorder.max_notification_id() or 0

    def lag(self) -> int:
        return max(0, self.head() - self.position())

    def settle(self) -> None:
        """Nothing to do by default: `handle` recorded every page's position."""

    def take_over(self, connection: psycopg.Connection[Any]) -> None:
        """Called each time the follower takes the lead, listening already, before it reads on
        from its position: nothing to do by default."""

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._leadership() as connection:
                    if connection is not None:
                        self._follow(connection)
                        self.settle()
            except Exception:
                log.exception(
                    "follower failed; resuming from its last position", follower=self.name
                )
                self._stopping.wait(self.retry_seconds)

    @contextmanager
    def _leadership(self) -> Iterator[psycopg.Connection[Any] | None]:
        """Only one replica of a service follows its log at a time: the one holding this
        follower's advisory lock. Another waits, and takes over when the lock is released
        (PostgreSQL releases it when the holder's connection ends, however it ends)."""
        key = f"civil-orders:{self.service.name}:{self.name}"
        with connect(self.service.settings) as connection:
            while not self._stopping.is_set():
                row = connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
                if row.fetchone() == (True,):
                    self.leading = True
                    try:
                        yield connection
                    finally:
                        self.leading = False
                    return
                self._stopping.wait(self.retry_seconds)
            yield None

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        self.take_over(connection)
        position = self.position()
        while not self._stopping.is_set():
            seen = self.service.stores_heard
            page = self.read(position, self.page)
            if page:
                self.handle(page)
                position = page[-1][1]
            if len(page) < self.page:
                self._wait_for_more(seen, connection)

    def _wait_for_more(self, seen: int, lead: psycopg.Connection[Any]) -> None:
        """Return when a store has been heard since the last read began (`seen`), or the
        follower is stopping, settling once the log has been quiet a while. Nothing is
        missed: a store that came during the read was heard after `seen` was taken. While
        the process is not hearing (its listening connection lost) the log is read again
        each `QUIET_SECONDS`; when it hears again it wakes the followers, and they read on.
        (Reading again on a timer always cost every follower two reads a second while the
        stack was idle.)"""
        settled = False
        while not self._stopping.is_set():
            _still_open(lead)
            if self.service.wait_for_store(seen, QUIET_SECONDS) or not self.service.hearing:
                return
            if not settled:
                self.settle()
                settled = True


def _still_open(lead: psycopg.Connection[Any]) -> None:
    """Raise if the connection that holds the lead has ended (the database restarted, an
    administrator ended it): the lock went with it, and another replica may hold it now.
    The follower then stops following until it holds the lock again. Nothing is sent: the
    server's closing of the connection is read from its socket, if it came."""
    if select.select([lead.fileno()], [], [], 0)[0]:
        lead.pgconn.consume_input()  # raises once the server has closed the connection


def events_after(
    service: EventSourcedService, *aggregates: type
) -> Read[DomainEventProtocol[UUID]]:
    """The service's stored events after a position, as domain events: only those of these
    aggregate classes (selected in the query, so the rest are never read or decoded)."""
    topics = [
        get_topic(kind)
        for aggregate in aggregates
        for kind in vars(aggregate).values()
        if isinstance(kind, type) and issubclass(kind, CanMutateAggregate)
    ]

    def read(position: int, limit: int) -> list[tuple[DomainEventProtocol[UUID], int]]:
        notifications = service.recorder.select_notifications(
            position, limit, topics=topics, inclusive_of_start=False
        )
        return [(service.mapper.to_domain_event(n), n.id) for n in notifications]

    return read


LogFollower = Follower[DomainEventProtocol[UUID]]
