"""Dates that come in from outside are plausible: nothing that happened is in the future (by
the services' clock, give or take a day), and a subject was born within a lifetime."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.dates import Day, Moment, judge_dates_by, months_after, now, years_before
from schemas.district import DistrictBreachReport, DistrictDisposal
from schemas.topics import topic
from tests.messages import valid_referral
from tests.strategies import as_bytes

TODAY = datetime.now(UTC).date()
REFERRALS = topic("district.referrals.v1")


@pytest.fixture
def two_years_on() -> Iterator[date]:
    """A services' clock set two years ahead, as CLOCK_DATE sets it."""
    ahead = years_before(TODAY, -2)
    real = judge_dates_by(lambda: datetime.combine(ahead, time(12), UTC))
    yield ahead
    judge_dates_by(real)


def referral_born(on: date) -> bytes:
    message = valid_referral()
    message["payload"]["subject"]["date_of_birth"] = on.isoformat()  # type: ignore[index]
    return as_bytes(message)


def refusal(raw: bytes) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as refused:
        REFERRALS.parse(raw)
    [error] = refused.value.errors()
    return error["loc"], error["type"]


def test_a_subject_born_in_the_future_is_refused_naming_the_field() -> None:
    loc, kind = refusal(referral_born(date(9999, 12, 31)))

    assert loc == ("payload", "subject", "date_of_birth")
    assert kind == "date_future"


def test_a_subject_born_more_than_a_lifetime_ago_is_refused() -> None:
    assert refusal(referral_born(years_before(TODAY, 121)))[1] == "date_past"
    assert REFERRALS.parse(referral_born(years_before(TODAY, 119)))


def test_a_date_a_day_ahead_of_the_clock_is_taken_for_a_zone_ahead_of_utc() -> None:
    assert REFERRALS.parse(referral_born(TODAY + timedelta(days=1)))
    assert refusal(referral_born(TODAY + timedelta(days=3)))[1] == "date_future"


def test_a_disposal_or_breach_in_the_future_is_refused_and_the_message_says_why() -> None:
    with pytest.raises(ValidationError, match="must not be in the future") as disposal:
        DistrictDisposal.model_validate(disposal_on(TODAY + timedelta(days=30)))
    with pytest.raises(ValidationError, match="must not be in the future"):
        DistrictBreachReport.model_validate(breach_at(now() + timedelta(days=2)))

    assert disposal.value.errors()[0]["loc"] == ("disposed_on",)


def test_the_future_is_judged_by_the_services_clock(two_years_on: date) -> None:
    a_year_on = years_before(TODAY, -1)

    assert DistrictDisposal.model_validate(disposal_on(a_year_on))
    assert DistrictBreachReport.model_validate(breach_at(now() - timedelta(days=300)))
    with pytest.raises(ValidationError):
        DistrictDisposal.model_validate(disposal_on(two_years_on + timedelta(days=5)))


def test_the_day_a_lifetime_before_29_february_is_the_28th() -> None:
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)


def disposal_on(day: date) -> dict[str, object]:
    return {
        "district": "north",
        "crime_reference": "CR/1/26",
        "outcome_code": "15",
        "offence": "synthetic",
        "offence_category": "sexual offence",
        "sexual_offence": True,
        "victim_age_band": "adult",
        "disposed_on": day.isoformat(),
    }


def breach_at(moment: datetime) -> dict[str, object]:
    return {
        "district": "north",
        "report_reference": "NTH-BR-1",
        "order_reference": "ORD-2026-000001",
        "occurred_at": moment.isoformat(),
        "location": "Synthetic Park",
        "condition_breached": "Not to enter the park.",
        "how_detected": "home visit",
        "reporting_officer": "DC 1",
    }


def test_months_on_or_back_keep_the_day_or_fall_back_to_the_months_last() -> None:
    assert months_after(date(2021, 3, 10), 3) == date(2021, 6, 10)
    assert months_after(date(2021, 3, 10), -3) == date(2020, 12, 10)
    assert months_after(date(2021, 11, 30), 3) == date(2022, 2, 28)
    assert months_after(date(2026, 5, 31), -3) == date(2026, 2, 28)
    assert months_after(date(2024, 5, 29), -3) == date(2024, 2, 29)
    assert months_after(date(2026, 1, 15), -2) == date(2025, 11, 15)
    assert months_after(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert months_after(date(2026, 1, 31), 0) == date(2026, 1, 31)


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        (Moment, "0.0"),
        (Moment, "1700000000"),
        (Moment, 1700000000),
        (Moment, "yesterday"),
        (Moment, "2026-12-02"),  # no time, no offset
        (Day, "0"),
        (Day, 86400),
        (Day, "2026-12-02T09:30:00Z"),
        (Day, "2 December 2026"),
    ],
)
def test_a_day_or_moment_not_written_in_iso_8601_is_refused(kind: Any, given: object) -> None:
    """Pydantic alone took a number, or a string of one, as a Unix time, for a date too: the
    web API's `identified_since=0.0` listed candidates since 1970 (found by the fuzzing)."""
    with pytest.raises(ValidationError, match="ISO 8601|timezone"):
        TypeAdapter(kind).validate_python(given)


def test_a_day_or_moment_in_iso_8601_is_taken_and_the_schema_says_so() -> None:
    moment = TypeAdapter(Moment)
    assert moment.validate_python("2026-12-02T09:30:00+01:00") == datetime(
        2026, 12, 2, 8, 30, tzinfo=UTC
    )
    assert moment.json_schema() == {"type": "string", "format": "date-time"}
    assert TypeAdapter(Day).validate_python("2026-12-02") == date(2026, 12, 2)
    assert TypeAdapter(Day).json_schema() == {"type": "string", "format": "date"}


def test_a_disposal_dated_by_a_number_is_refused_naming_the_field() -> None:
    disposal = {**disposal_on(TODAY), "disposed_on": 20000}  # days since 1970, or seconds
    with pytest.raises(ValidationError, match="ISO 8601") as refused:
        DistrictDisposal.model_validate(disposal)
    assert refused.value.errors()[0]["loc"] == ("disposed_on",)
