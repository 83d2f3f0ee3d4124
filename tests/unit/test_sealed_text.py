"""Text that looks sealed. A sealed value's key id is a UUID, and a value that is not a whole
sealed value is refused where it is read, naming its field, never failing the batch it came
in. Text that comes in may not carry the mark of a sealed value (`sealed:v1:`), for which it
would be taken. A personal field is always sealed for the wire, whatever it looks like."""

import json
from uuid import UUID

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import ValidationError

from plumbing.consumer import Consumers, describe
from plumbing.keystore import KeyStore, MasterKeys, MemoryKeys
from plumbing.personal import PersonalData
from schemas.application import OrderReallocatedV1
from schemas.district import DistrictReferralV1
from schemas.personal import SEAL, SEALED, sealed_key
from schemas.topics import topic, topic_of
from tests.messages import valid_referral
from tests.service.upstream import order_reallocated
from tests.unit.test_consumer import RecordedDeadLetters

SEALED_IN_TEXT = "Text must not contain 'sealed:v1:', which marks a sealed value"
NOT_SEALED = "Value error, not a sealed value (sealed:v1:<key id>:<ciphertext>)"
# where a key id goes, 36 of the characters a UUID is written with that are not one
NOT_KEY_IDS = ["-" * 36, "0" * 36, "0" * 35 + "-"]
REFERRALS, ORDERS = "district.referrals.v1", "application.orders.v1"
REASON = "OrderReallocated.payload.reason"  # (its topic carries several types of event)


def personal() -> PersonalData:
    return PersonalData(KeyStore(MemoryKeys(), MasterKeys({1: bytes(32)}), b"lookup"))


def reallocation(data: PersonalData, reference: str, reason: str | None = None) -> bytes:
    """An order reallocated as the application service publishes it, sealed; with `reason`,
    that text in place of the sealed reason."""
    sealer = data.sealer(data.key_for("SYN1"))
    message = json.loads(order_reallocated(reference).model_dump_json(context={SEAL: sealer}))
    if reason is not None:
        message["payload"]["reason"] = reason
    return json.dumps(message).encode()


@pytest.mark.parametrize("not_a_key", NOT_KEY_IDS)
async def test_a_sealed_value_whose_key_id_is_no_uuid_is_dead_lettered_and_the_rest_applied(
    not_a_key: str,
) -> None:
    data, received, dead_letters = personal(), [], RecordedDeadLetters()
    broker = KafkaBroker()
    consumers = Consumers(broker, "notification", dead_letters, personal=data)  # type: ignore[arg-type]
    consumers.on(OrderReallocatedV1, lambda event: received.append(event.payload.order_reference))
    consumers.subscribe()
    malformed = reallocation(data, "ORD-2", f"{SEALED}{not_a_key}:AAAA")

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish_batch(
            reallocation(data, "ORD-1"), malformed, reallocation(data, "ORD-3"), topic=ORDERS
        )

    assert received == ["ORD-1", "ORD-3"]
    [(_, value, reason)] = dead_letters.letters
    assert value == malformed
    assert reason == f"invalid {ORDERS} message: {REASON}: {NOT_SEALED}"


@pytest.mark.parametrize("not_a_key", NOT_KEY_IDS)
def test_a_sealed_value_whose_key_id_is_no_uuid_is_refused_even_where_it_is_kept_sealed(
    not_a_key: str,
) -> None:
    """Read models and replays keep sealed values as they come, to open as they show them."""
    data = personal()
    orders = topic(ORDERS)

    kept = orders.parse(reallocation(data, "ORD-1"))
    with pytest.raises(ValidationError) as refused:
        orders.parse(reallocation(data, "ORD-2", f"{SEALED}{not_a_key}:AAAA"))

    assert isinstance(sealed_key(kept.payload.reason), UUID)  # type: ignore[attr-defined]
    assert describe(refused.value) == f"{REASON}: {NOT_SEALED}"


def district_referral(reference: str = "NTH-1", /, **payload: object) -> bytes:
    message = valid_referral()
    message["payload"].update(district_reference=reference, **payload)  # type: ignore[attr-defined]
    return json.dumps(message).encode()


@pytest.mark.parametrize(
    ("field", "given", "where"),
    [
        ("referring_officer", f"{SEALED}PC 12", "referring_officer"),
        ("grounds", f"{SEALED}{UUID(int=1)}:AAAA", "grounds"),  # a sealed value copied in
        ("grounds", f"seen at school sealed:v1:{'-' * 36}:AAAA", "grounds"),
        ("crime_references", ["CR/1/26", f"{SEALED}CR/2/26"], "crime_references.1"),
        ("subject", {"nominal_id": "SYN1", "name": SEALED, "date_of_birth": "1981-05-04"},
         "subject.name"),
    ],
)  # fmt: skip
def test_a_district_message_whose_text_carries_the_mark_of_a_sealed_value_is_refused_naming_where(
    field: str, given: object, where: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        topic(REFERRALS).parse(district_referral(**{field: given}))

    assert describe(refused.value) == f"payload.{where}: {SEALED_IN_TEXT}"


async def test_a_district_batch_with_text_quoting_a_sealed_value_dead_letters_it_alone() -> None:
    """Its key id was read, with every other of the batch, before any message was parsed."""
    received, dead_letters = [], RecordedDeadLetters()
    broker = KafkaBroker()
    consumers = Consumers(broker, "referral", dead_letters, personal=personal())  # type: ignore[arg-type]
    consumers.on(
        DistrictReferralV1, lambda event: received.append(event.payload.district_reference)
    )
    consumers.subscribe()
    quoting = district_referral("NTH-2", grounds=f"pasted: sealed:v1:{'-' * 36}:AAAA as it was")

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish_batch(
            district_referral("NTH-1"), quoting, district_referral("NTH-3"), topic=REFERRALS
        )

    assert received == ["NTH-1", "NTH-3"]
    [(_, value, reason)] = dead_letters.letters
    assert value == quoting
    assert reason == f"invalid {REFERRALS} message: payload.grounds: {SEALED_IN_TEXT}"


def test_a_value_that_looks_sealed_goes_on_the_wire_sealed_with_its_own_persons_key() -> None:
    """Never as it is: a value sealed for one person, found in another's event, would be
    opened by its consumers with the first person's key. Sealed again, it is refused."""
    data = personal()
    theirs = data.sealer(data.key_for("SYN-A"))("A's reason for the move")
    event = order_reallocated()
    copied = event.model_copy(
        update={"payload": event.payload.model_copy(update={"reason": theirs})}
    )

    raw = copied.model_dump_json(context={SEAL: data.sealer(data.key_for("SYN1"))})
    on_the_wire = json.loads(raw)["payload"]["reason"]
    with pytest.raises(ValidationError) as refused:
        topic_of(OrderReallocatedV1).parse(raw.encode(), data.open_json)

    assert on_the_wire != theirs and sealed_key(on_the_wire) == data.key_for("SYN1")
    assert describe(refused.value) == f"{REASON}: {SEALED_IN_TEXT}"
