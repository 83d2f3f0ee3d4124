"""Each service's consumer fetches with the wait set for its place in the flow: the notifier,
last hop of every alert, with the alert wait; the read models, on no alert's path, with
theirs; the rest with the services' wait."""

import importlib

import pytest

from plumbing.settings import Settings

SETTINGS = Settings(
    database_url="postgresql://unused/x",
    kafka_bootstrap_servers="unused:9092",
    kafka_fetch_max_wait_ms=41,
    alert_fetch_max_wait_ms=7,
    read_model_fetch_max_wait_ms=303,
)


@pytest.mark.parametrize(
    ("service", "wait"),
    [
        ("referral", 41),
        ("application", 41),
        ("breach", 41),
        ("notification", 7),
        ("readmodels", 303),
    ],
)
def test_a_service_fetches_with_the_wait_set_for_its_place(service: str, wait: int) -> None:
    definition = importlib.import_module(f"services.{service}.main").definition

    assert definition.fetch_max_wait_ms(SETTINGS) == wait
