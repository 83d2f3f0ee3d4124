"""Waiting, in a test, for what another thread or process does."""

import time
from collections.abc import Callable


def eventually(done: Callable[[], bool], what: str, seconds: float) -> None:
    """Return once `done()` holds; fail, naming `what`, if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.005)
