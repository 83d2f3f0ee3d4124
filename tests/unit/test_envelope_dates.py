"""The envelope's `occurred_at`, which a district referral is dated by, is a plausible moment
written in ISO 8601: else the message is dead-lettered saying so."""

import json

import pytest
from faststream.kafka import TestKafkaBroker

from tests.messages import valid_referral
from tests.unit.test_consumer import consumers_with


@pytest.mark.parametrize(
    ("occurred_at", "why"),
    [
        (0, "must be written in ISO 8601, e.g. 2026-12-02T09:30:00Z"),
        ("1733000000", "must be written in ISO 8601, e.g. 2026-12-02T09:30:00Z"),
        ("1066-10-14T09:00:00Z", "must fall in the years 1900 to 2199"),
    ],
)
async def test_a_district_referral_dated_by_a_number_or_out_of_all_reason_is_dead_lettered(
    occurred_at: object, why: str
) -> None:
    """Pydantic alone takes a number, or a string of one, as a Unix time: the referral was
    recorded as made on that day (1970-01-01, 2024-11-30), as it was a thousand years back."""
    received: list[object] = []
    broker, dead_letters = consumers_with(received.append)
    message = valid_referral() | {"occurred_at": occurred_at}

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(json.dumps(message).encode(), "district.referrals.v1")

    assert received == []
    [(_, _, reason)] = dead_letters.letters
    assert reason == f"invalid district.referrals.v1 message: occurred_at: {why}"
