"""Dates a contract can believe, for what comes in from outside (district systems, people's
commands): what has happened is not in the future, and a person was born in a lifetime.

"Now" is the clock the services use (a service sets it from its settings when it starts;
else the real time), give or take a day: a date written in a zone ahead of UTC, or by a
clock a little fast, is still today. Events the services publish are not checked again:
they record what was accepted, and must replay whatever the clock says later.
"""

import calendar
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

SKEW = timedelta(days=1)
LIFETIME_YEARS = 120
Clock = Callable[[], datetime]


def _real_time() -> datetime:
    return datetime.now(UTC)


_clock: Clock = _real_time


def judge_dates_by(clock: Clock) -> Clock:
    """Judge "future" by `clock` (a service's settings' `current_time`) from now on; returns
    the clock it replaces."""
    global _clock
    replaced, _clock = _clock, clock
    return replaced


def now() -> datetime:
    return _clock()


def today() -> date:
    return _clock().date()


def months_after(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier, if negative), or the month's
    last day where it has none (31 May, three months on: 31 August; one month on: 30 June)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February: the 28th, in a year without one)."""
    return months_after(day, -12 * years)


@dataclass(frozen=True)
class Happened:
    """Pydantic metadata for a date or time that has happened: not after now (give or take
    SKEW) and, when `within_years` is given, not further back than that."""

    within_years: int | None = None

    def latest(self) -> datetime:
        return now() + SKEW

    def earliest(self) -> date | None:
        if self.within_years is None:
            return None
        return years_before(now().date(), self.within_years)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: date) -> date:
        moment = value if isinstance(value, datetime) else datetime.combine(value, time(), UTC)
        latest, earliest = self.latest(), self.earliest()
        if moment > latest:
            raise PydanticCustomError(
                "date_future",
                "must not be in the future: after {latest} by the services' clock, which allows "
                "a day for time zones and clock skew",
                {"latest": latest.isoformat(timespec="minutes")},
            )
        if earliest is not None and moment.date() < earliest:
            raise PydanticCustomError(
                "date_past",
                "must be within the last {years} years: not before {earliest}",
                {"years": self.within_years, "earliest": earliest.isoformat()},
            )
        return value


# What happened on a day, or at a moment: a referral made, an order made, a breach, a disposal.
PastDate = Annotated[date, Happened()]
PastTime = Annotated[AwareDatetime, Happened()]
BirthDate = Annotated[date, Happened(within_years=LIFETIME_YEARS)]


def _written_in_iso_8601(value: Any) -> Any:
    """Pydantic takes a number, or a string of one, as a Unix time: a date-time in the
    contracts is written in ISO 8601 (RFC 3339), as their schemas say (`format: date-time`)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value)
    raise PydanticCustomError(
        "datetime_iso",
        "must be a date and time in ISO 8601 with its offset, e.g. 2026-12-02T09:30:00Z",
    )


# A moment given by a person or a tool: a filter's bound, say.
Moment = Annotated[AwareDatetime, BeforeValidator(_written_in_iso_8601)]
