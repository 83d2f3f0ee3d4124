"""The dead-letter path's record of a message: its bytes, headers and reason, in the service's
table and on the dead-letter topic."""

import json
from typing import Any

from aiokafka.structs import ConsumerRecord

from plumbing.deadletters import DeadLetters
from schemas.topics import DEAD_LETTER_TOPIC


class Table:
    """The dead-letter table: the values each insert was given."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    async def fetchval(self, statement: str, *values: Any) -> int:
        self.rows.append(values)
        return len(self.rows)


class Topic:
    def __init__(self) -> None:
        self.published: list[tuple[bytes, dict[str, Any]]] = []

    async def publish(self, value: bytes, **kwargs: Any) -> None:
        self.published.append((value, kwargs))


async def test_a_message_with_a_header_without_a_value_is_dead_lettered_keeping_it_as_null() -> (
    None
):
    """Kafka headers may have no value (aiokafka reads one as None): decoding it failed the
    dead letter, so the batch came again for ever and the partition stalled behind it."""
    table, topic = Table(), Topic()
    record = ConsumerRecord(
        topic="district.referrals.v1",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=b"not json",
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=8,
        headers=(("traceparent", None), ("event_type", b"DistrictReferral")),
    )

    assert await DeadLetters(table, topic, "referral").record(record, "invalid") == 1  # type: ignore[arg-type]

    [(_, _, offset, _, value, headers, reason)] = table.rows
    assert (offset, value, reason) == (7, b"not json", "invalid")
    assert json.loads(headers) == {"traceparent": None, "event_type": "DistrictReferral"}
    [(published, sent)] = topic.published
    assert (published, sent["topic"]) == (b"not json", DEAD_LETTER_TOPIC)
    assert "traceparent" not in sent["headers"]
    assert sent["headers"]["event_type"] == "DistrictReferral"
