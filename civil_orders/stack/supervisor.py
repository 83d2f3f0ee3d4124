"""Keeps a running stack up: whatever it started and dies is started again, where it was.

A process that dies is restarted after a backoff that doubles while it keeps dying soon after
each start (within STEADY_SECONDS: 1 s, 2 s, 4 s... at most 30 s); one that has run steadily
is trusted again. One that dies soon after each of GIVE_UP_AFTER starts in a row is in a crash
loop and cannot stay up: the supervisor stops and says which, and where to look in its log.
Each death and restart is a JSON line in `supervisor.log`, and is said to whoever watches (the
console of `civil-orders up`).
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from civil_orders.stack.embedded import Stack
from plumbing.logs import file_logger

STEADY_SECONDS = 20.0
MAX_BACKOFF_SECONDS = 30.0
GIVE_UP_AFTER = 6
CHECK_SECONDS = 0.5


@dataclass
class _Child:
    started: float
    quick_deaths: int = 0
    restart_at: float | None = None  # set while it is dead and waiting to be restarted


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        say: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stack = stack
        self.say = say
        self.clock = clock
        self.log = file_logger(stack.data_dir / "supervisor.log", "supervisor")
        self.gave_up: str | None = None  # why, once a child could not stay up
        self.restarts = 0
        now = clock()
        self._children = {name: _Child(now) for name in stack.children()}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> "Supervisor":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.wait(CHECK_SECONDS) and self.gave_up is None:
            self.check()

    def check(self) -> None:
        """One look at every child: notice deaths, restart those whose backoff is over."""
        if self.gave_up is not None:
            return
        now = self.clock()
        for name, exit_code in self.stack.children().items():
            child = self._children.setdefault(name, _Child(now))
            if exit_code is None and child.restart_at is None:
                if now - child.started >= STEADY_SECONDS:
                    child.quick_deaths = 0
            elif child.restart_at is None:
                self._died(name, child, exit_code, now)
            elif now >= child.restart_at:
                self._restart(name, child, now)

    def _died(self, name: str, child: _Child, exit_code: int | None, now: float) -> None:
        quick = now - child.started < STEADY_SECONDS
        child.quick_deaths = child.quick_deaths + 1 if quick else 1
        log_file = self.stack.log_file(name)
        if child.quick_deaths >= GIVE_UP_AFTER:
            self.gave_up = (
                f"{name} cannot stay up: it died {child.quick_deaths} times, each within "
                f"{STEADY_SECONDS:.0f}s of starting; see {log_file}"
            )
            self.log.error("gave up", child=name, exit_code=exit_code, log=str(log_file))
            self.say(self.gave_up)
            return
        delay = min(MAX_BACKOFF_SECONDS, 2.0 ** (child.quick_deaths - 1))
        child.restart_at = now + delay
        self.log.warning("died", child=name, exit_code=exit_code, restart_in_seconds=delay)
        self.say(f"{name} died (exit {exit_code}); restarting in {delay:.0f}s; see {log_file}")

    def _restart(self, name: str, child: _Child, now: float) -> None:
        try:
            self.stack.restart(name)
        except Exception as error:  # it could not start: a quick death like any other
            self.log.warning("restart failed", child=name, error=str(error))
            child.restart_at, child.started = None, now
            self._died(name, child, None, self.clock())
            return
        child.restart_at, child.started = None, self.clock()
        self.restarts += 1
        self.log.info("restarted", child=name)
        self.say(f"{name} restarted")


@contextmanager
def supervised(stack: Stack, say: Callable[[str], None]) -> Iterator[Supervisor]:
    """The stack kept up for the duration of the block."""
    supervisor = Supervisor(stack, say).start()
    try:
        yield supervisor
    finally:
        supervisor.stop()
