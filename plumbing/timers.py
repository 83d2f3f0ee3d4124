"""Timers: work a service does every so often (deadlines, escalations), not on an event."""

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()


async def every(seconds: float, what: str, tick: Callable[[], Awaitable[None]]) -> None:
    """Run `tick` now and then every `seconds`, for the life of the process. A failure is
    logged and the tick tried again next time: a timer never dies quietly."""
    while True:
        try:
            await tick()
        except Exception:
            log.exception("timer failed; will try again", timer=what)
        await asyncio.sleep(seconds)
