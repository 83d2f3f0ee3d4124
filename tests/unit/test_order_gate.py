"""The consumer's order gate (`plumbing.arrivals`) as the services run it, on faststream's
in-memory broker: only the services' own topics are ordered, each message's position is named
as its topic's contract says, and a dead-lettered message's position counts as taken."""

import json
from collections.abc import Iterable
from typing import Any

from faststream.kafka import KafkaBroker, TestKafkaBroker

from plumbing.arrivals import Arrivals, Stream
from plumbing.consumer import Consumers
from plumbing.deadletters import REDRIVEN
from schemas.application import OrderAllocatedV1, OrderReallocatedV1
from schemas.district import DistrictReferralV1
from schemas.envelope import Envelope
from tests.messages import valid_referral
from tests.service.upstream import order_allocated, order_reallocated
from tests.unit.test_consumer import RecordedDeadLetters

ORDERS, REFERRALS = "application.orders.v1", "district.referrals.v1"


class ServiceDeadLetters(RecordedDeadLetters):
    service = "notification"


class ArrivalsInMemory(Arrivals):
    """The last positions taken, kept in a dict where the services keep them in PostgreSQL."""

    def __init__(self) -> None:
        super().__init__(pool=None, service="notification")
        self.positions: dict[Stream, int] = {}

    async def _recorded(self, streams: Iterable[Stream]) -> dict[Stream, int]:
        return {stream: self.positions[stream] for stream in streams if stream in self.positions}

    async def write(self, last: dict[Stream, int], into: Any = None) -> None:
        for stream, sequence in last.items():
            self.positions[stream] = max(sequence, self.positions.get(stream, 0))


def gated(*event_types: type[Envelope]) -> tuple[KafkaBroker, list[Envelope], ServiceDeadLetters]:
    """A consumer of these events behind the order gate, what it applies and dead-letters."""
    broker, dead_letters = KafkaBroker(), ServiceDeadLetters()
    received: list[Envelope] = []
    consumers = Consumers(broker, "notification", dead_letters, arrivals=ArrivalsInMemory())  # type: ignore[arg-type]
    for event_type in event_types:
        consumers.on(event_type, received.append)
    consumers.subscribe()
    return broker, received, dead_letters


def referral(reference: str, **envelope: object) -> bytes:
    message = valid_referral()
    message["payload"]["district_reference"] = reference  # type: ignore[index]
    return json.dumps(message | envelope).encode()


async def test_a_district_message_naming_a_position_is_dead_lettered_saying_so() -> None:
    """A district system's message is no position in our logs: ordered by one, an earlier
    number sent later vanished as a copy, and one naming a predecessor was held back for
    ever. It is refused, and the district sees why; one naming none is applied, each time."""
    broker, received, dead_letters = gated(DistrictReferralV1)
    numbered = referral("NTH-8", sequence=8)
    chained = referral("NTH-2", previous_sequence=1)

    async with TestKafkaBroker(broker) as kafka:
        for raw in (numbered, chained, referral("NTH-1"), referral("NTH-1")):
            await kafka.publish(raw, REFERRALS)

    assert [e.payload.district_reference for e in received] == ["NTH-1", "NTH-1"]  # type: ignore[attr-defined]
    assert dead_letters.letters == [
        (REFERRALS, numbered, f"invalid {REFERRALS} message: sequence: not allowed on a "
         "district topic (district systems send no position)"),
        (REFERRALS, chained, f"invalid {REFERRALS} message: previous_sequence: not allowed "
         "on a district topic (district systems send no position)"),
    ]  # fmt: skip


async def test_a_services_event_without_its_position_is_dead_lettered_each_time() -> None:
    """Each event is taken once by its position: one without could not be (delivered twice,
    it failed the read models' batch for ever)."""
    broker, received, dead_letters = gated(OrderReallocatedV1)
    unnumbered = order_reallocated().model_copy(update={"sequence": None})
    raw = unnumbered.model_dump_json().encode()
    moved = order_reallocated(reference="ORD-2026-TIER02")

    async with TestKafkaBroker(broker) as kafka:
        for message in (raw, raw, moved.model_dump_json().encode()):
            await kafka.publish(message, ORDERS)

    assert received == [moved]
    reason = f"invalid {ORDERS} message: sequence: Field required on a service's topic"
    assert [(value, why.startswith(reason)) for _, value, why in dead_letters.letters] == [
        (raw, True),
        (raw, True),
    ]


async def test_a_position_past_what_the_database_records_is_dead_lettered_not_failed_on() -> None:
    broker, received, dead_letters = gated(OrderReallocatedV1)
    forged = json.loads(order_reallocated().model_dump_json()) | {"sequence": 2**63}
    moved = order_reallocated(reference="ORD-2026-TIER02")

    async with TestKafkaBroker(broker) as kafka:
        for message in (json.dumps(forged).encode(), moved.model_dump_json().encode()):
            await kafka.publish(message, ORDERS)

    assert received == [moved]
    [(_, _, why)] = dead_letters.letters
    assert "sequence: Input should be less than or equal to 9223372036854775807" in why


def allocation_and_reallocation() -> tuple[bytes, bytes, bytes]:
    """An order's allocation as this consumer cannot read it (a field its schema lacks, as
    when the producer was upgraded first), the same allocation as it can, and the order's
    reallocation after it."""
    allocated = order_allocated().model_copy(update={"sequence": 10, "previous_sequence": 0})
    moved = order_reallocated().model_copy(update={"sequence": 11, "previous_sequence": 10})
    unreadable = json.loads(allocated.model_dump_json())
    unreadable["payload"]["managing_officer"] = "DS 12"
    return (
        json.dumps(unreadable).encode(),
        allocated.model_dump_json().encode(),
        moved.model_dump_json().encode(),
    )


async def test_after_a_dead_lettered_event_the_next_of_its_aggregate_is_applied_once() -> None:
    """The dead-lettered event has been dealt with: the reallocation after it is applied
    (before, it was held back for ever), and the relay's replays of both are passed over as
    copies (before, the allocation was dead-lettered again at each)."""
    broker, received, dead_letters = gated(OrderAllocatedV1, OrderReallocatedV1)
    unreadable, _, moved = allocation_and_reallocation()

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish(unreadable, ORDERS)
        for _ in range(3):  # the relay sends the history again, after a fault
            await kafka.publish(unreadable, ORDERS)
            await kafka.publish(moved, ORDERS)

    assert [type(event) for event in received] == [OrderReallocatedV1]
    [(_, value, reason)] = dead_letters.letters
    assert value == unreadable
    assert reason == (
        f"invalid {ORDERS} message: "
        "OrderAllocated.payload.managing_officer: Extra inputs are not permitted"
    )


async def test_a_dead_letter_re_driven_to_its_consumer_is_applied_though_past_its_position() -> (
    None
):
    """Once the consumer can read it, the operator re-drives it (`civil-orders dlq retry`):
    applied, where the same bytes without the re-drive's header are a copy."""
    broker, received, dead_letters = gated(OrderAllocatedV1, OrderReallocatedV1)
    unreadable, readable, moved = allocation_and_reallocation()
    redriven = {REDRIVEN: dead_letters.service}

    async with TestKafkaBroker(broker) as kafka:
        for raw in (unreadable, moved, readable):
            await kafka.publish(raw, ORDERS)
        await kafka.publish(readable, ORDERS, headers={REDRIVEN: "breach"})  # another's
        await kafka.publish(readable, ORDERS, headers=redriven)

    assert [type(event) for event in received] == [OrderReallocatedV1, OrderAllocatedV1]
    assert len(dead_letters.letters) == 1
