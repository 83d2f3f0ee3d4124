"""Hypothesis strategies for the wire contracts: valid events derived from each model's fields
and their constraints, garbage, and valid messages with one thing wrong."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin
from uuid import UUID

from annotated_types import Ge, Le, MinLen
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, HttpUrl, ValidationError

from schemas.dates import SKEW, YEARS, Happened
from schemas.envelope import Envelope
from schemas.text import unstorable
from schemas.topics import Topic

Path = tuple[str | int, ...]

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
FIRST_MOMENT = datetime(YEARS[0], 1, 1)  # a moment's year, in its own offset, is one of YEARS
_SCALARS: dict[object, st.SearchStrategy[Any]] = {
    NoneType: st.none(),
    bool: st.booleans(),
    UUID: st.uuids(),
    date: st.dates(),
    AwareDatetime: st.datetimes(
        FIRST_MOMENT, datetime(YEARS[-1], 12, 31, 23, 59), timezones=_offsets
    ),
}


def models(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Valid instances of `model`, optional fields sometimes left to their defaults."""
    values = {name: _values(f.annotation, f.metadata) for name, f in model.model_fields.items()}
    optional = {name for name, field in model.model_fields.items() if not field.is_required()}
    return st.fixed_dictionaries(
        {name: strategy for name, strategy in values.items() if name not in optional},
        optional={name: values[name] for name in optional},
    ).map(lambda kwargs: model(**kwargs))


def _values(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    origin, args = get_origin(annotation), get_args(annotation)
    least = next((m.min_length for m in metadata if isinstance(m, MinLen)), 0)
    if origin is Annotated:
        return _values(args[0], [*metadata, *args[1:]])
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Union, UnionType):
        return st.one_of(*(_values(arg, metadata) for arg in args))
    if origin is list:
        return st.lists(_values(args[0], []), min_size=least, max_size=max(3, least))
    if origin is frozenset:
        return st.frozensets(_values(args[0], []), min_size=least, max_size=max(3, least))
    if origin is dict:
        keys, values = _values(args[0], []), _values(args[1], [])
        return st.dictionaries(keys, values, min_size=least, max_size=max(2, least))
    if annotation is HttpUrl:
        return st.sampled_from(["https://teams.example/alerts", "http://127.0.0.1:8109/x"])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return models(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from(annotation)
    if annotation is str:
        return _text(metadata)
    if annotation is int:
        ge = next((m.ge for m in metadata if isinstance(m, Ge)), None)
        le = next((m.le for m in metadata if isinstance(m, Le)), None)
        return st.integers(min_value=cast(int | None, ge), max_value=cast(int | None, le))
    happened = next((m for m in metadata if isinstance(m, Happened)), None)
    if happened is not None:
        return _happened(annotation, happened)
    return _SCALARS[annotation]


def _happened(annotation: Any, happened: Happened) -> st.SearchStrategy[Any]:
    """Dates or times in the window a field allows, a day clear of either end."""
    today = happened.latest().date() - SKEW
    if annotation is AwareDatetime:
        before = datetime.combine(today - timedelta(days=2), time())  # in any zone
        return st.datetimes(FIRST_MOMENT, before, timezones=_offsets)
    earliest = happened.earliest()
    first = earliest + timedelta(days=1) if earliest else date.min
    return st.dates(min_value=first, max_value=today - timedelta(days=1))


def _text(metadata: list[Any]) -> st.SearchStrategy[str]:
    storable = st.characters(codec="utf-8", exclude_characters="\x00")
    for constraint in metadata:
        if getattr(constraint, "pattern", None):
            text = st.from_regex(constraint.pattern, fullmatch=True, alphabet=storable)
            break
    else:
        min_size = next((m.min_length for m in metadata if isinstance(m, MinLen)), 0)
        text = st.text(storable, min_size=min_size, max_size=12)
    return text.filter(lambda text: unstorable(text) is None)  # as text that comes in must be


def as_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


def envelope_shaped(topic: Topic) -> st.SearchStrategy[bytes]:
    """JSON objects with the envelope's and payloads' keys, and anything at all as values."""
    envelope_keys = set(Envelope.model_fields)
    payload_keys = {key for event in topic.events for key in _payload_model(event).model_fields}
    tags = st.sampled_from([event.type_name() for event in topic.events])
    anything = dict.fromkeys(envelope_keys - {"event_type"}, json_values)
    payloads = st.fixed_dictionaries({}, optional=dict.fromkeys(payload_keys, json_values))
    return st.fixed_dictionaries(
        {"event_type": tags | json_values}, optional={**anything, "payload": payloads}
    ).map(as_bytes)


def garbage(topic: Topic) -> st.SearchStrategy[bytes]:
    """Bytes that are not a valid message on `topic`: noise, JSON, nearly an event, or an
    event with something hostile in it."""
    candidates = (
        st.binary(max_size=40)
        | json_values.map(as_bytes)
        | envelope_shaped(topic)
        | st.sampled_from(topic.events).flatmap(broken).map(lambda bad: as_bytes(bad.message))
        | hostile_messages(topic)
    )
    return candidates.filter(lambda raw: refused_by(topic, raw))


def hostile_messages(topic: Topic) -> st.SearchStrategy[bytes]:
    """Valid events of `topic` with one value made hostile (see `hostile`)."""
    events = st.sampled_from(topic.events).flatmap(models)
    return events.flatmap(lambda event: hostile(event.model_dump(mode="json"))).map(
        lambda bad: bad.raw
    )


@dataclass(frozen=True)
class Nested:
    """Lists nested `depth` deep, written out as text (json.dumps would recurse as deep)."""

    depth: int


@dataclass(frozen=True)
class Hostile:
    """A JSON document as bytes, with one hostile value at `path`; `refused` when no reader
    may take it, whatever the field (an unpaired surrogate, nesting deeper than 32)."""

    raw: bytes
    path: Path
    refused: bool


unpaired_surrogates = st.tuples(
    st.text(max_size=3), st.characters(categories=["Cs"]), st.text(max_size=3)
).map("".join)  # st.text holds no surrogates, so the one between is unpaired
overlong_text = st.tuples(
    st.characters(codec="utf-8", exclude_characters="\x00"), st.integers(10_000, 60_000)
).map(lambda repeated: repeated[0] * repeated[1])
extreme_numbers = st.sampled_from([2**63, -(2**63) - 1, 10**100, 1e308, float("nan"), float("inf")])
hostile_values = st.one_of(
    unpaired_surrogates,
    overlong_text,
    st.integers(33, 3000).map(Nested),
    extreme_numbers,
    json_values,  # every JSON type
)
_HOLE = "<hostile value>"


@st.composite
def hostile(draw: st.DrawFn, document: Any) -> Hostile:
    """`document` as JSON with the value at one path, at any depth or the whole of it,
    replaced by a hostile one; text written as ASCII escapes or as (CESU-8) bytes."""
    path = draw(st.sampled_from(list(_paths(document))))
    value = draw(hostile_values)
    ascii_only = draw(st.booleans())
    if isinstance(value, Nested):
        written = "[" * value.depth + "]" * value.depth
    else:
        written = json.dumps(value, ensure_ascii=ascii_only)
    text = json.dumps(_put(document, path, _HOLE), ensure_ascii=ascii_only)
    raw = text.replace(json.dumps(_HOLE), written).encode(errors="surrogatepass")
    refused = isinstance(value, Nested) or (isinstance(value, str) and bool(unstorable(value)))
    return Hostile(raw, path, refused)


def _paths(document: Any, at: Path = ()) -> Iterator[Path]:
    yield at
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, (*at, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _paths(value, (*at, index))


def _put(document: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _put(document[head], tuple(rest), value)  # type: ignore[index]
    return copy


def refused_by(topic: Topic, raw: bytes) -> bool:
    try:
        topic.parse(raw)
    except ValidationError:
        return True
    return False


@dataclass(frozen=True)
class Broken:
    """A valid message as JSON with one thing wrong, and the path of the field at fault."""

    message: dict[str, Any]
    path: Path
    how: str


@st.composite
def broken(draw: st.DrawFn, event: type[Envelope]) -> Broken:
    """A valid `event` with one field of a wrong type, one required field removed, or one
    field the contract does not know, at any depth."""
    message = draw(models(event)).model_dump(mode="json")
    at, model, data = draw(st.sampled_from(list(_objects(event, message))))
    how = draw(st.sampled_from(["wrong type", "removed", "unknown field"]))
    if how == "unknown field":
        name = draw(st.text(min_size=1, max_size=8).filter(lambda n: n not in model.model_fields))
        data[name] = draw(json_values)
    elif how == "removed":
        name = draw(st.sampled_from([n for n, f in model.model_fields.items() if f.is_required()]))
        del data[name]
    else:
        name = draw(st.sampled_from(list(model.model_fields)))
        data[name] = draw(_wrong_for(data[name]))
    return Broken(message, (*at, name), how)


def _objects(
    model: type[BaseModel], data: dict[str, Any], at: Path = ()
) -> Iterator[tuple[Path, type[BaseModel], dict[str, Any]]]:
    """Every JSON object in a dumped model, with its path and the model it stands for."""
    yield at, model, data
    for name, field in model.model_fields.items():
        nested, value = _model_in(field.annotation), data[name]
        if nested is None or value is None or _models_in(field.annotation) > 1:
            continue  # a union of models: which one a value stands for is the value's to say
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _objects(nested, item, (*at, name, index))
        elif get_origin(field.annotation) is dict:
            for key, item in value.items():
                yield from _objects(nested, item, (*at, name, key))
        else:
            yield from _objects(nested, value, (*at, name))


def _models_in(annotation: Any) -> int:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return 1
    return sum(map(_models_in, get_args(annotation)))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)


def _payload_model(event: type[Envelope]) -> type[BaseModel]:
    payload = _model_in(event.model_fields["payload"].annotation)
    assert payload is not None
    return payload


def _wrong_for(value: object) -> st.SearchStrategy[Any]:
    """JSON that no field holding `value` accepts, even in pydantic's lax mode."""
    objects = st.dictionaries(st.text(max_size=5), json_values, max_size=2)
    scalars = st.text(max_size=5) | st.integers() | st.booleans()
    if isinstance(value, dict):
        return st.lists(json_values, max_size=2) | scalars
    if isinstance(value, list):
        return objects | scalars
    return objects | st.lists(json_values, max_size=2)
