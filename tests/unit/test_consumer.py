"""The one consumer pattern, on faststream's in-memory broker: a single handler, no services."""

import json
from collections.abc import Collection
from typing import Any
from uuid import UUID

from faststream.kafka import KafkaBroker, TestKafkaBroker

from plumbing.consumer import Consumers
from plumbing.keystore import KeyStore, MasterKeys, MemoryKeys, StoredKey
from plumbing.personal import PersonalData
from schemas.application import OrderReallocatedV1
from schemas.district import DistrictReferralV1
from schemas.personal import SEAL
from schemas.refusals import CommandRejected
from tests.messages import valid_referral
from tests.service.upstream import order_granted, order_reallocated


class RecordedDeadLetters:
    def __init__(self) -> None:
        self.letters: list[tuple[str, bytes, str]] = []

    async def record(self, record: Any, reason: str) -> int:
        self.letters.append((record.topic, record.value, reason))
        return len(self.letters)


def consumers_with(policy: Any) -> tuple[KafkaBroker, RecordedDeadLetters]:
    broker = KafkaBroker()
    dead_letters = RecordedDeadLetters()
    consumers = Consumers(broker, "referral", dead_letters)  # type: ignore[arg-type]
    consumers.on(DistrictReferralV1, policy)
    consumers.subscribe()
    return broker, dead_letters


async def test_a_valid_message_reaches_its_policy_as_a_typed_event() -> None:
    received: list[DistrictReferralV1] = []
    broker, dead_letters = consumers_with(received.append)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(json.dumps(valid_referral()).encode(), "district.referrals.v1")

    [event] = received
    assert event.payload.district_reference == "NTH-1"
    assert dead_letters.letters == []


async def test_a_malformed_message_is_dead_lettered_with_its_bytes_and_the_fields_at_fault() -> (
    None
):
    received: list[DistrictReferralV1] = []
    broker, dead_letters = consumers_with(received.append)
    message = valid_referral()
    del message["payload"]["grounds"]  # type: ignore[attr-defined]
    raw = json.dumps(message).encode()

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(raw, "district.referrals.v1")
        await test_broker.publish(b"\x00 not json", "district.referrals.v1")

    assert received == []
    [(topic, value, reason), (_, garbage, _)] = dead_letters.letters
    assert (topic, value, garbage) == ("district.referrals.v1", raw, b"\x00 not json")
    assert reason == "invalid district.referrals.v1 message: payload.grounds: Field required"


async def test_a_message_the_domain_refuses_is_dead_lettered_with_the_domains_reason() -> None:
    def refuse(event: DistrictReferralV1) -> None:
        raise CommandRejected("the referral is accepted, so it cannot be triaged again")

    broker, dead_letters = consumers_with(refuse)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(json.dumps(valid_referral()).encode(), "district.referrals.v1")

    [(_, _, reason)] = dead_letters.letters
    assert reason == (
        "DistrictReferral rejected: the referral is accepted, so it cannot be triaged again"
    )


def referral(reference: str) -> bytes:
    message = valid_referral()
    message["payload"]["district_reference"] = reference  # type: ignore[index]
    return json.dumps(message).encode()


async def test_in_a_batch_bad_and_refused_messages_are_dead_lettered_and_the_rest_applied() -> None:
    received: list[str] = []

    def policy(event: DistrictReferralV1) -> None:
        if event.payload.district_reference == "NTH-REFUSED":
            raise CommandRejected("the district has withdrawn this referral")
        received.append(event.payload.district_reference)

    broker, dead_letters = consumers_with(policy)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(
            referral("NTH-1"),
            b"not json",
            referral("NTH-REFUSED"),
            referral("NTH-2"),
            topic="district.referrals.v1",
        )

    assert received == ["NTH-1", "NTH-2"]
    [(_, garbage, invalid), (_, _, refused)] = dead_letters.letters
    assert garbage == b"not json" and invalid.startswith("invalid district.referrals.v1")
    assert refused == "DistrictReferral rejected: the district has withdrawn this referral"


def with_keys(table: MemoryKeys) -> PersonalData:
    return PersonalData(KeyStore(table, MasterKeys({1: bytes(32)}), b"lookup"))


def reallocations_opened_with(
    personal: PersonalData,
) -> tuple[KafkaBroker, list[OrderReallocatedV1]]:
    """A consumer of order reallocations given personal data, and what its policy receives."""
    received: list[OrderReallocatedV1] = []
    broker = KafkaBroker()
    consumers = Consumers(broker, "notification", RecordedDeadLetters(), personal=personal)  # type: ignore[arg-type]
    consumers.on(OrderReallocatedV1, received.append)
    consumers.subscribe()
    return broker, received


async def test_personal_fields_reach_the_policy_opened_whether_the_batch_is_sealed_or_not() -> None:
    """A batch with sealed values opens them off the event loop (opening may read keys); one
    without is parsed where it is: either way the policy gets the plain values."""
    personal = with_keys(MemoryKeys())
    broker, received = reallocations_opened_with(personal)
    moved = order_reallocated()
    sealer = personal.sealer(personal.key_for("SYN1"))
    sealed = moved.model_dump_json(context={SEAL: sealer}).encode()
    assert b"sealed:v1:" in sealed

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(sealed, "application.orders.v1")
        await test_broker.publish(moved.model_dump_json().encode(), "application.orders.v1")

    assert [event.payload.reason for event in received] == [moved.payload.reason] * 2


class AskedKeys(MemoryKeys):
    """A key table that notes every key it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[UUID] = set()

    def get(self, key_ids: Collection[UUID]) -> dict[UUID, StoredKey]:
        self.asked |= set(key_ids)
        return super().get(key_ids)


async def test_only_the_events_a_consumer_acts_on_have_their_personal_fields_opened() -> None:
    """Another event on the same topic is parsed sealed and passed over: its subject's key is
    never read. A message whose header names another type than its body is opened all the
    same when its body is one the consumer acts on."""
    table = AskedKeys()
    personal, elsewhere = with_keys(table), with_keys(MemoryKeys())
    broker, received = reallocations_opened_with(personal)
    granted, moved = order_granted(), order_reallocated()
    others_key = elsewhere.key_for(granted.payload.subject_nominal_id)
    sealed_granted = granted.model_dump_json(context={SEAL: elsewhere.sealer(others_key)})
    sealed_moved = moved.model_dump_json(context={SEAL: personal.sealer(personal.key_for("SYN1"))})

    async with TestKafkaBroker(broker) as test_broker:
        for sealed in (sealed_granted, sealed_moved):  # both headed as the order's grant
            headers: dict[str, Any] = {"event_type": granted.event_type}
            await test_broker.publish(sealed.encode(), "application.orders.v1", headers=headers)

    assert others_key not in table.asked
    assert [event.payload.reason for event in received] == [moved.payload.reason]
