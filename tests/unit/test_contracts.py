import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from schemas.envelope import Contract
from schemas.export import export
from schemas.topics import TOPICS, topic
from tests.messages import valid_referral


def test_every_topic_name_carries_its_version() -> None:
    for declared in TOPICS:
        assert re.fullmatch(r"[a-z]+\.[a-z]+(-[a-z]+)*\.v\d+", declared.name), declared.name


def test_every_event_class_is_named_for_its_type_and_version() -> None:
    for declared in TOPICS:
        for event in declared.events:
            version = event.model_fields["schema_version"].default
            assert event.__name__ == f"{event.type_name()}V{version}"


def test_a_message_with_a_field_the_contract_does_not_know_is_refused_naming_it() -> None:
    message = valid_referral()
    message["payload"]["nickname"] = "x"  # type: ignore[index]

    with pytest.raises(ValidationError, match=r"payload\.nickname"):
        topic("district.referrals.v1").parse(_json(message))


def test_an_order_sought_outside_the_list_is_refused() -> None:
    message = valid_referral()
    message["payload"]["order_sought"] = "ASBO"  # type: ignore[index]

    with pytest.raises(ValidationError, match="order_sought"):
        topic("district.referrals.v1").parse(_json(message))


def test_text_with_a_nul_character_is_refused_because_no_consumer_could_store_it() -> None:
    message = valid_referral()
    message["payload"]["grounds"] = "before\x00after"  # type: ignore[index]
    message["payload"]["crime_references"] = ["CR/1/26", "CR/\x00"]  # type: ignore[index]

    with pytest.raises(ValidationError, match="NUL") as refused:
        topic("district.referrals.v1").parse(_json(message))
    assert {e["loc"][-2:] for e in refused.value.errors()} == {
        ("payload", "grounds"),
        ("crime_references", 1),  # the item itself
    }


def test_a_topic_parses_each_of_its_event_types_by_name() -> None:
    parsed = topic("district.referrals.v1").parse(_json(valid_referral()))

    assert type(parsed).__name__ == "DistrictReferralV1"
    assert parsed.payload.subject.nominal_id == "SYN1"  # type: ignore[attr-defined]


def test_export_writes_a_schema_per_event_and_an_asyncapi_document_naming_every_topic(
    tmp_path: Path,
) -> None:
    written = export(tmp_path)

    events = {event.__name__ for declared in TOPICS for event in declared.events}
    assert {path.stem for path in written if path.suffix == ".json"} == events
    asyncapi = yaml.safe_load((tmp_path / "asyncapi.yaml").read_text())
    assert set(asyncapi["channels"]) == {declared.name for declared in TOPICS}


def _json(message: dict[str, object]) -> bytes:
    return json.dumps(message).encode()


def test_the_published_contracts_in_the_repository_match_the_code(tmp_path: Path) -> None:
    published = Path(__file__).parents[2] / "schemas" / "generated"

    for fresh in export(tmp_path):
        assert (published / fresh.name).read_text() == fresh.read_text(), (
            f"schemas/generated/{fresh.name} is stale: run `civil-orders schemas export`"
        )


def test_text_is_checked_in_the_fields_a_contract_inherits_and_in_those_it_adds() -> None:
    class Note(Contract):
        text: str
        count: int

    class Note(Note):  # type: ignore[no-redef]  # a subclass may share its base's name
        tags: list[str]
        said: str | None = None

    valid = {"text": "ok", "count": 1, "tags": ["fine"]}
    for field, bad in (("text", "a\x00"), ("tags", ["ok", "\x00"]), ("said", "\udc00")):
        with pytest.raises(ValidationError) as refused:
            Note.model_validate(valid | {field: bad})
        assert [error["loc"][0] for error in refused.value.errors()] == [field]
    assert Note.model_validate(valid).model_dump()["said"] is None


def test_a_contract_with_fields_declared_as_text_is_refused_as_its_text_goes_unchecked() -> None:
    with pytest.raises(TypeError, match="Later"):

        class Later(Contract):
            said: "str"  # as `from __future__ import annotations` declares every field
