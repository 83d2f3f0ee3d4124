"""The service-layer tier: each service's own service object on the eventsourcing library's
in-memory persistence (`plumbing.memory`). A command or an upstream event goes in; the events
stored, the wire messages in the outbox and the refusals come out. No server is started.

Each test gets fresh services with the settings' defaults (whatever the environment says:
an e2e stack of the same run sets some) on the run's one clock (noon today, see
`tests/conftest.py`), which a test may move on; the services of one test share one key
table, as the services of a stack share the key store.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from eventsourcing.domain import CanCreateTimestamp
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from plumbing.eventstore import EventSourcedService, stamp_events_by
from plumbing.memory import InMemory, SharedKeys
from plumbing.settings import ClockSettings, Settings
from schemas import dates
from services.application.application import ApplicationService
from services.breach.application import BreachService
from services.notification.application import NotificationService
from services.referral.application import ReferralService
from services.web.application import WebService

S = TypeVar("S", bound=EventSourcedService)


class TierSettings(Settings):
    """The settings' defaults and what a test gives, never the environment's."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def tier_settings(**given: Any) -> Settings:
    """Settings for services in memory (the URLs are never used) on the run's clock."""
    return TierSettings(
        database_url="postgresql://in-memory/never-used",
        kafka_bootstrap_servers="never-used:9092",
        clock_offset_seconds=ClockSettings().clock_offset_seconds,
        **given,
    )


@dataclass
class Clock:
    """The one clock of a test's services: the settings' `current_time`, which also stamps
    their events and judges what the contracts call the future. `move_on` lets time pass
    for every service of the test at once."""

    settings: Settings
    services: list[EventSourcedService] = field(default_factory=list)

    def now(self) -> datetime:
        return self.settings.current_time()

    def today(self) -> date:
        return self.settings.current_date()

    def move_on(self, **delta: float) -> None:
        offset = self.settings.clock_offset_seconds + timedelta(**delta).total_seconds()
        self.settings = self.settings.model_copy(update={"clock_offset_seconds": offset})
        for service in self.services:
            service.settings = self.settings


@pytest.fixture
def settings() -> Settings:
    return tier_settings()


@pytest.fixture
def clock(settings: Settings) -> Iterator[Clock]:
    clock = Clock(settings)
    stamped_by = CanCreateTimestamp.create_timestamp
    judged_by = dates.judge_dates_by(clock.now)
    stamp_events_by(clock.now)
    yield clock
    dates.judge_dates_by(judged_by)
    stamp_events_by(stamped_by)


@pytest.fixture
def keys() -> SharedKeys:
    return SharedKeys()


class Start:
    """Starts a service of a kind in memory, on the test's clock and key table."""

    def __init__(self, clock: Clock, keys: SharedKeys) -> None:
        self.clock = clock
        self.keys = keys

    def __call__(self, kind: type[S]) -> S:
        service = kind(self.clock.settings, store=InMemory(self.keys))
        self.clock.services.append(service)
        return service


@pytest.fixture
def start(clock: Clock, keys: SharedKeys) -> Iterator[Start]:
    yield Start(clock, keys)
    for service in clock.services:
        service.close()


@pytest.fixture
def referral(start: Start) -> ReferralService:
    return start(ReferralService)


@pytest.fixture
def application(start: Start) -> ApplicationService:
    return start(ApplicationService)


@pytest.fixture
def breach(start: Start) -> BreachService:
    return start(BreachService)


@pytest.fixture
def notification(start: Start) -> NotificationService:
    return start(NotificationService)


@pytest.fixture
def web(start: Start) -> WebService:
    return start(WebService)
