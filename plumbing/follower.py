"""Following a service's own notification log: the outbox relay and other local reactions.

The eventsourcing library's Postgres subscription LISTENs for the NOTIFY its recorder
sends on every insert, so a follower wakes when events are stored, not on a timer.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog
from eventsourcing.domain import DomainEventProtocol

from plumbing.eventstore import EventSourcedService, connect

log = structlog.get_logger()

Handle = Callable[[DomainEventProtocol, int], None]


class LogFollower:
    """Hands each stored event to `handle`, in notification order, on its own thread.

    `handle` records its own position (a tracking record named `name`), so a restart
    resumes after the last event it finished. A failing `handle` is retried, never skipped.
    """

    def __init__(
        self, service: EventSourcedService, name: str, handle: Handle, retry_seconds: float = 1.0
    ) -> None:
        self.service = service
        self.name = name
        self.handle = handle
        self.retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self._subscription: object | None = None
        self.leading = False
        self._thread = threading.Thread(target=self._run, name=f"follow-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()  # type: ignore[attr-defined]
        self._thread.join(timeout=10)

    def running(self) -> bool:
        return self._thread.is_alive()

    def position(self) -> int:
        return self.service.process_recorder.max_tracking_id(self.name) or 0

    def lag(self) -> int:
        return (self.service.recorder.max_notification_id() or 0) - self.position()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._leadership() as leading:
                    if leading:
                        self._follow()
            except Exception:
                log.exception(
                    "follower failed; resuming from its last position", follower=self.name
                )
                self._stopping.wait(self.retry_seconds)

    @contextmanager
    def _leadership(self) -> Iterator[bool]:
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
                        yield True
                    finally:
                        self.leading = False
                    return
                self._stopping.wait(self.retry_seconds)
            yield False

    def _follow(self) -> None:
        mapper = self.service.mapper
        with self.service.recorder.subscribe(gt=self.position() or None) as subscription:
            self._subscription = subscription
            if self._stopping.is_set():
                return
            for notification in subscription:
                self.handle(mapper.to_domain_event(notification), notification.id)
