"""Restarting one of a test stack's services with other settings."""

from collections.abc import Iterator
from contextlib import contextmanager

from civil_orders.stack.embedded import Stack


@contextmanager
def restarted(stack: Stack, service: str, **env: str) -> Iterator[None]:
    """The service restarted with these settings, and as it was again afterwards."""
    stack.stop(service)
    stack.start(service, env=env)
    try:
        yield
    finally:
        stack.stop(service)
        stack.start(service)
