"""The tier covers every service's whole service layer: each public method of each
event-sourced service (its commands, policies and queries), and each policy its consumer
runs, is called by a test of that service's module here. A method added without a test
fails this, by name."""

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

from plumbing.eventstore import EventSourcedService
from plumbing.memory import InMemory
from plumbing.runtime import ServiceDefinition
from plumbing.settings import EVENT_STORES
from tests.service.conftest import tier_settings

HERE = Path(__file__).parent


def definition(service: str) -> ServiceDefinition:
    found: ServiceDefinition = importlib.import_module(f"services.{service}.main").definition
    return found


def service_layer(kind: type[EventSourcedService]) -> list[str]:
    """The methods a service adds to the base: what its entry points call."""
    return [
        name
        for name, member in vars(kind).items()
        if inspect.isfunction(member) and not name.startswith("_") and not hasattr(
            EventSourcedService, name
        )
    ]


def called_by_tests(module: Path) -> set[str]:
    """Every name the module's tests call or pass on (`x.name(...)`, `name(...)`,
    `consume(service, service.name, ...)`), themselves or through the module's helpers and
    fixtures they use."""
    functions = {
        node.name: node
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.FunctionDef)
    }
    reached = [name for name in functions if name.startswith("test_")]
    named: set[str] = set()
    while reached:
        function = functions[reached.pop()]
        found = {arg.arg for arg in function.args.args}
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.Name):
                found.add(node.id)
        reached += [name for name in found - named if name in functions]
        named |= found
    return named


class Subscriptions:
    """Stands in for the consumer: what `subscribe` registers."""

    def __init__(self) -> None:
        self.policies: list[Any] = []

    def on(self, event_type: type, policy: Any) -> None:
        self.policies.append(policy)

    def on_batch(self, event_types: Any, handler: Any) -> None:
        self.policies.append(handler)


def policy_name(policy: Any) -> str:
    """A service's method by its name; a policy a function makes, by that function's."""
    return str(policy.__qualname__).split(".<locals>")[0].rsplit(".", 1)[-1]


def test_every_event_sourced_service_has_a_module_of_tests_here() -> None:
    assert {p.stem.removeprefix("test_") for p in HERE.glob("test_*.py")} >= set(EVENT_STORES)


@pytest.mark.parametrize("service", EVENT_STORES)
def test_each_method_of_the_service_layer_is_called_by_a_test(service: str) -> None:
    kind = definition(service).application
    assert kind is not None
    untested = set(service_layer(kind)) - called_by_tests(HERE / f"test_{service}.py")
    assert not untested, f"no test in tests/service/test_{service}.py calls {sorted(untested)}"


@pytest.mark.parametrize("service", EVENT_STORES)
def test_each_policy_the_consumer_runs_is_called_by_a_test(service: str) -> None:
    found = definition(service)
    assert found.application is not None
    subscriptions = Subscriptions()
    running = found.application(tier_settings(), store=InMemory())
    try:
        found.subscribe(subscriptions, running, running.settings)  # type: ignore[arg-type]
    finally:
        running.close()
    tested = called_by_tests(HERE / f"test_{service}.py")
    untested = {policy_name(p) for p in subscriptions.policies} - tested
    assert not untested, f"no test in tests/service/test_{service}.py runs {sorted(untested)}"
