"""The alert dispatcher: follows the service's log and sends each alert raised over the
team's channels, in a lane of the team's, and each escalation to the team's fallback, in
another.

An attempt may wait the whole send timeout on a team's system that hangs, and a delivery
retries with backoff: in one queue, every team's alerts would wait behind it. Each team's go
out in its own lane instead, in the order raised, so a team whose system is slow or down
holds up only its own.

A lane records each outcome with the position of the event it answers, so positions are
recorded out of order across lanes, and the follower's position (the highest recorded) may
pass an alert still on its way. So whenever the dispatcher takes the lead (at start, or
from a replica that stopped), it first hands every alert the inbox shows unsettled to its
lane again: nothing is lost to a stop, and a lane leaves alone an alert already settled.
"""

import queue
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.domain import DomainEventProtocol

from plumbing.follower import LogFollower, events_after
from services.notification.application import DISPATCHER, NotificationService
from services.notification.domain import Alert
from services.notification.inbox import unsettled

log = structlog.get_logger()

Work = Callable[[], None]


class Lanes:
    """A thread per lane, doing the lane's work in the order it was handed over. Work that
    fails (the database away as an outcome is recorded, say) is tried again until it is
    done or the lanes stop."""

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self._lanes: dict[str, queue.SimpleQueue[Work | None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def hand(self, name: str, work: Work) -> None:
        with self._lock:
            if name not in self._lanes:
                works: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
                self._lanes[name] = works
                threading.Thread(
                    target=self._run, args=(name, works), name=f"alerts-{name}", daemon=True
                ).start()
            self._lanes[name].put(work)

    def _run(self, name: str, works: "queue.SimpleQueue[Work | None]") -> None:
        while (work := works.get()) is not None:
            while not self._stopping.is_set():
                try:
                    work()
                    break
                except Exception:
                    log.exception("alert lane failed; trying again", lane=name)
                    self._stopping.wait(self.retry_seconds)

    def stop(self) -> None:
        """Each lane ends after the work in hand (a send under way is not cut off); what it
        had not done is handed to it again when the dispatcher next takes the lead."""
        self._stopping.set()
        with self._lock:
            for works in self._lanes.values():
                works.put(None)


def lane(team: str, escalation: bool) -> str:
    """A team's alerts go out in its lane, and their escalations (to its fallback, the duty
    channel) in another, so that none waits behind a webhook of the team's that hangs."""
    return f"{team} fallback" if escalation else team


class Dispatcher(LogFollower):
    def __init__(self, service: NotificationService) -> None:
        super().__init__(service, DISPATCHER, events_after(service, Alert), self._hand_on)
        self.notification = service
        self.lanes = Lanes(self.retry_seconds)

    def _hand_on(self, page: Sequence[tuple[DomainEventProtocol[UUID], int]]) -> None:
        send = self.notification.when_alert_raised_send_it
        for event, position in page:
            if isinstance(event, Alert.Requested):
                self.lanes.hand(lane(event.team, False), partial(send, event, position))
            elif isinstance(event, Alert.Escalated):
                team = self.notification.team_of(event.originator_id)
                self.lanes.hand(lane(team, True), partial(send, event, position))

    def take_over(self, connection: psycopg.Connection[Any]) -> None:
        for alert_id, team, escalation in unsettled(connection):
            self.lanes.hand(
                lane(team, escalation), partial(self.notification.send_unsettled, alert_id)
            )

    def stop(self) -> None:
        super().stop()
        self.lanes.stop()
