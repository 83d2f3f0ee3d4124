"""Properties of the wire contracts, for every event on every topic: valid events round-trip,
nothing but ValidationError comes out of parsing, and the consumer dead-letters what fails."""

from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from plumbing.consumer import Consumers, describe
from schemas.district import DistrictReferralV1
from schemas.envelope import Envelope
from schemas.text import storable_text
from schemas.topics import TOPICS, Topic, topic_of
from tests.messages import valid_referral
from tests.strategies import Broken, as_bytes, broken, garbage, json_values, models
from tests.unit.test_consumer import RecordedDeadLetters

EVENTS = [event for declared in TOPICS for event in declared.events]
by_name = pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.__name__)
on_every_topic = pytest.mark.parametrize("declared", TOPICS, ids=lambda declared: declared.name)


def test_every_contract_model_is_frozen_and_refuses_unknown_fields() -> None:
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = list(EVENTS)
    while todo:
        model = todo.pop()
        seen.add(model)
        assert model.model_config.get("extra") == "forbid", model.__name__
        assert model.model_config.get("frozen"), model.__name__
        todo += [nested for nested in _nested_models(model) if nested not in seen]
    assert len(seen) > len(EVENTS)  # the payloads and their parts were walked too


@by_name
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_every_event_round_trips_through_its_topic_as_the_same_event(
    event: type[Envelope], data: st.DataObject
) -> None:
    sent = data.draw(models(event))

    received = topic_of(event).parse(sent.model_dump_json().encode())

    assert type(received) is event
    assert received == sent


@on_every_topic
@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=60) | json_values.map(as_bytes))
def test_any_bytes_on_any_topic_parse_as_one_of_its_events_or_fail_validation(
    declared: Topic, raw: bytes
) -> None:
    try:
        parsed = declared.parse(raw)
    except ValidationError:
        return
    assert type(parsed) in declared.events


@on_every_topic
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_garbage_shaped_like_an_event_fails_validation_and_nothing_else(
    declared: Topic, data: st.DataObject
) -> None:
    raw = data.draw(garbage(declared))

    with pytest.raises(ValidationError):
        declared.parse(raw)


@by_name
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_an_event_with_one_field_wrong_missing_or_unknown_is_refused_naming_that_field(
    event: type[Envelope], data: st.DataObject
) -> None:
    bad: Broken = data.draw(broken(event))
    declared = topic_of(event)

    with pytest.raises(ValidationError) as refused:
        declared.parse(as_bytes(bad.message))

    reason = describe(refused.value)
    if bad.path == ("event_type",) and len(declared.events) > 1:
        assert "'event_type'" in reason  # the tag that picks the event type is at fault
        return
    locations = [tuple(error["loc"]) for error in refused.value.errors()]
    assert any(location[-len(bad.path) :] == bad.path for location in locations), locations
    assert f"{'.'.join(map(str, bad.path))}: " in reason


def _cases() -> st.SearchStrategy[tuple[Envelope, list[bytes]]]:
    return st.sampled_from(EVENTS).flatmap(
        lambda event: st.tuples(
            models(event), st.lists(garbage(topic_of(event)), min_size=1, max_size=4)
        )
    )


@settings(max_examples=40, deadline=None)
@given(case=_cases())
@example(case=(DistrictReferralV1.model_validate(valid_referral()), [b'{"\\u0000": 0}']))
async def test_garbage_is_dead_lettered_with_a_reason_and_the_next_valid_event_still_arrives(
    case: tuple[Envelope, list[bytes]],
) -> None:
    valid, junk = case
    name = topic_of(type(valid)).name
    received: list[Envelope] = []
    broker, dead_letters = KafkaBroker(), RecordedDeadLetters()
    consumers = Consumers(broker, "properties", dead_letters)  # type: ignore[arg-type]
    consumers.on(type(valid), received.append)
    consumers.subscribe()

    async with TestKafkaBroker(broker) as test_broker:
        for raw in junk:
            await test_broker.publish(raw, name)
        await test_broker.publish(valid.model_dump_json().encode(), name)

    assert received == [valid]
    assert [(topic, value) for topic, value, _ in dead_letters.letters] == [
        (name, raw) for raw in junk
    ]
    for _, _, reason in dead_letters.letters:
        assert reason.startswith(f"invalid {name} message: ")


def _nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    todo: list[Any] = [field.annotation for field in model.model_fields.values()]
    while todo:
        annotation = todo.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(annotation)
        todo += getattr(annotation, "__args__", ())
    return found


@given(st.text())
def test_dead_letter_text_is_storable_in_postgresql_and_says_where_nul_was(text: str) -> None:
    stored = storable_text(text)
    assert "\x00" not in stored
    assert stored.replace("\\x00", "\x00") == text or "\\x00" in text
