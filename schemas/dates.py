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

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

SKEW = timedelta(days=1)
LIFETIME_YEARS = 120
# The years a moment from outside may fall in, as the read models bound their days: asyncpg
# moves a moment to UTC to send it, which fails near either end of Python's calendar.
YEARS = range(1900, 2200)
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


def _written_in_iso_8601(kind: type[date]) -> Callable[[Any], Any]:
    """Pydantic takes a number, or a string of one, as a Unix time, for a date too: a date or
    date-time from outside is written in ISO 8601 (RFC 3339), as the schemas say."""
    example = "2026-12-02T09:30:00Z" if kind is datetime else "2026-12-02"

    def check(value: Any) -> Any:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return kind.fromisoformat(value)
        raise PydanticCustomError(
            "iso_8601", "must be written in ISO 8601, e.g. {example}", {"example": example}
        )

    return check


def within_years(moment: datetime) -> datetime:
    """`moment`, if its year (in its own offset) is one of `YEARS`."""
    if moment.year not in YEARS:
        raise PydanticCustomError(
            "datetime_years",
            "must fall in the years {first} to {last}",
            {"first": YEARS[0], "last": YEARS[-1]},
        )
    return moment


# A day, or a moment (with its offset), given from outside: a filter's bound, say.
Day = Annotated[date, BeforeValidator(_written_in_iso_8601(date))]
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_written_in_iso_8601(datetime)),
    AfterValidator(within_years),
]

# What happened on a day, or at a moment: a referral made, an order made, a breach, a disposal.
PastDate = Annotated[Day, Happened()]
PastTime = Annotated[Moment, Happened()]
BirthDate = Annotated[Day, Happened(within_years=LIFETIME_YEARS)]
