"""Every route of every service runs on the event loop, its dependencies too: FastAPI runs a
plain function in its thread pool, a hop to another thread and back on every request (in the
application service, a sixth of a command's time)."""

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from plumbing.runtime import create_app
from plumbing.settings import Settings

SERVICES = ["referral", "application", "breach", "notification", "readmodels", "web"]


def called(dependant: Dependant) -> Iterator[Any]:
    """What FastAPI calls for a route: the endpoint and, below it, each dependency."""
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from called(dependency)


@pytest.mark.parametrize("service", SERVICES)
def test_no_route_of_a_service_calls_a_plain_function_in_the_thread_pool(service: str) -> None:
    definition = importlib.import_module(f"services.{service}.main").definition
    settings = Settings(database_url="postgresql://unused/x", kafka_bootstrap_servers="unused:9092")
    app = create_app(definition, settings)

    plain = {
        f"{route.path}: {call.__qualname__}"
        for route in app.router.routes
        if isinstance(route, APIRoute)
        for call in called(route.dependant)
        if call is not None and not inspect.iscoroutinefunction(call)
    }

    assert plain == set()
