"""Personal data, the one way every service handles it: sealed with the key of the person
it is about wherever it is written (stored events, snapshots, wire events, its own tables),
opened where it is needed, and unreadable everywhere once the person's key is destroyed.

Aggregates work with plain values. Each service declares (`PersonalFields`) whose data each
of its aggregates holds (the attribute naming the person's nominal) and which attributes of
its events, value objects and snapshotted aggregates are personal. The event store's mapper
seals those when it stores an event and opens them when it reads one; the outbox seals the
wire event's `Personal` fields with the same key; consumers open them. A value whose key has
been destroyed reads as `[erased]` (a list, item by item), and a sealed value that was
altered is refused.
"""

import base64
import contextvars
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

from plumbing.keystore import NONCE_BYTES, KeyStore, KeyTable, MasterKeys, PersonKey
from plumbing.keytable import PostgresKeys
from plumbing.settings import Settings
from schemas.personal import ERASED, KEY_ID, SEALED, Sealer, itemwise, sealed_key
from schemas.refusals import CommandRejected

SEALED_BYTES = SEALED.encode()
_KEY_IDS = re.compile(f"{SEALED}({KEY_ID}):".encode())


class PersonalDataErased(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the person's personal data has been erased")


class SealedValueAltered(ValueError):
    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"a value sealed with key {key_id} was altered or is not whole")


class PersonalData:
    """Seals and opens values with people's keys."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    @classmethod
    def from_settings(
        cls, settings: Settings, create: bool = True, keys: KeyTable | None = None
    ) -> "PersonalData":
        """With the key store of the settings, its keys in PostgreSQL, or in `keys`."""
        database_url = settings.personal_keys_database_url or settings.database_url
        table = keys if keys is not None else PostgresKeys(database_url, create)
        master = MasterKeys.parse(settings.personal_data_master_keys.get_secret_value())
        lookup = settings.personal_data_lookup_key.get_secret_value().encode()
        return cls(KeyStore(table, master, lookup, settings.personal_key_cache_seconds))

    def key_for(self, nominal: str) -> UUID:
        """The person's key id, made the first time they are seen."""
        return self.keys_for([nominal])[nominal]

    def keys_for(self, nominals: Iterable[str]) -> dict[str, UUID]:
        """These people's key ids, those first seen made at once."""
        nominals = list(nominals)
        if ERASED in nominals:
            raise PersonalDataErased
        return self.keys.keys_for(nominals)

    def prepare(self, messages: Iterable[bytes]) -> None:
        """Read at once the keys the sealed values in these messages need."""
        found = (m for message in messages for m in _KEY_IDS.findall(message))
        self.keys.load({UUID(key_id.decode()) for key_id in found})

    def sealing(self, key_id: UUID, context: bytes | None = None) -> Callable[[bytes], str]:
        """Seals plain bytes with the key: each under a random nonce, or, given the `context`
        they go in, one derived from it and the value (the same value there seals the same
        again). The key is opened once for all the values of one event or message, at the
        first (one with nothing personal opens none)."""
        prefix, bound = f"{SEALED}{key_id}:", key_id.bytes
        opened: list[PersonKey] = []

        def seal(plain: bytes) -> str:
            if not opened:
                key = self.keys.opened(key_id)
                if key is None:
                    raise PersonalDataErased
                opened.append(key)
            key = opened[0]
            nonce = key.nonce(plain, context)
            sealed = base64.urlsafe_b64encode(nonce + key.aead.encrypt(nonce, plain, bound))
            return prefix + sealed.decode()

        return seal

    def open(self, token: str) -> bytes | None:
        """The plain bytes; None once the key is destroyed."""
        key_id = sealed_key(token)
        if key_id is None:
            raise ValueError("not a sealed value")
        key = self.keys.opened(key_id)
        if key is None:
            return None
        sealed = base64.urlsafe_b64decode(token.rpartition(":")[2])
        try:
            return key.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key_id.bytes)
        except InvalidTag:
            raise SealedValueAltered(key_id) from None

    def sealer(self, key_id: UUID, context: bytes | None = None) -> Sealer:
        """Seals a plain JSON value (what the outbox hands a wire event's personal fields)."""
        seal = self.sealing(key_id, context)
        return lambda value: seal(_json(value))

    def sealed_for(self, nominal: str, value: Any) -> Any:
        """`value` (plain JSON) sealed with the key of the person `nominal` names; of a person
        erased (a history read since), the value as it reads."""
        if nominal == ERASED:
            return value
        return self.sealer(self.key_for(nominal))(value)

    def open_json(self, token: str) -> Any:
        plain = self.open(token)
        return ERASED if plain is None else json.loads(plain)

    def reveal(self, data: Any) -> Any:
        """JSON-like data (rows, payloads) with every sealed value opened, the keys they need
        read first in one go."""
        found: list[str] = []
        _walk(data, found.append)  # a first walk only collects them
        self.keys.load({key for token in found if (key := sealed_key(token)) is not None})
        return _walk(data, self.open_json)

    def erase(self, nominal: str) -> UUID | None:
        """Destroy the person's key; the id it had, or None if they had none."""
        return self.keys.destroy(nominal)

    def close(self) -> None:
        self.keys.close()


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# what holds no text: passed over without a call (a call a value was most of a walk)
_LEAVES = (int, float, date, UUID, type(None))  # a bool is an int, a datetime a date


def _walk(data: Any, open_one: Callable[[str], Any]) -> Any:
    """`data` with every sealed string opened, in dicts, lists, tuples and dataclasses."""
    if isinstance(data, str):
        return open_one(data) if data.startswith(SEALED) else data
    if isinstance(data, dict):
        return {k: v if isinstance(v, _LEAVES) else _walk(v, open_one) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(v if isinstance(v, _LEAVES) else _walk(v, open_one) for v in data)
    if isinstance(data, _LEAVES):
        return data
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        values = {f.name: getattr(data, f.name) for f in dataclasses.fields(data) if f.init}
        opened = {name: _walk(value, open_one) for name, value in values.items()}
        unchanged = all(opened[name] is value for name, value in values.items())
        return data if unchanged else dataclasses.replace(data, **opened)
    return data


@dataclasses.dataclass(frozen=True)
class PersonalFields:
    """A service's personal data. `people`: for each aggregate class that holds some, the
    attribute (dotted path) naming the nominal of the person it is about. `fields`: for
    event classes, value classes (dataclasses) and snapshotted aggregate classes, their
    attributes that are personal data."""

    people: Mapping[type, str] = dataclasses.field(default_factory=dict)
    fields: Mapping[type, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def nominal(self, aggregate_class: type, attributes: Mapping[str, Any]) -> str | None:
        """The nominal of the person an aggregate (its attributes) is about, if declared."""
        path = self.people.get(aggregate_class)
        if path is None:
            return None
        first, *rest = path.split(".")
        value = attributes.get(first)
        for name in rest:
            value = getattr(value, name, None)
        return value

    def seal(
        self, cls: type, state: Mapping[str, Any], seal: Callable[[Any], str]
    ) -> dict[str, Any]:
        """`state` (an event's or aggregate's attributes) with its personal values sealed."""
        names = self.fields.get(cls, ())
        return {
            k: itemwise(v, seal) if k in names else self._seal_within(v, seal)
            for k, v in state.items()
        }

    def _seal_within(self, value: Any, seal: Callable[[Any], str]) -> Any:
        if isinstance(value, list | tuple):
            return type(value)(self._seal_within(v, seal) for v in value)
        if type(value) in self.fields and dataclasses.is_dataclass(value):
            state = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return dataclasses.replace(value, **self.seal(type(value), state, seal))  # type: ignore[type-var]
        return value


NOTHING_PERSONAL = PersonalFields()

# The person's key id for each aggregate whose events are being stored (set by the service).
_keys: contextvars.ContextVar[Mapping[UUID, UUID] | None] = contextvars.ContextVar(
    "keys", default=None
)


@contextmanager
def sealing_with(keys: Mapping[UUID, UUID]) -> Iterator[None]:
    """Store events meanwhile with these keys: aggregate id to the key of its person."""
    token = _keys.set(keys)
    try:
        yield
    finally:
        _keys.reset(token)


class SealingMapper(Mapper[UUID]):
    """The library's mapper, sealing a service's personal fields as it stores an event or
    snapshot (with the key of the person its aggregate is about) and opening them as it
    reads one back."""

    def __init__(
        self, transcoder: Transcoder, personal: PersonalData, declared: PersonalFields
    ) -> None:
        super().__init__(transcoder)
        self.personal = personal
        self.declared = declared

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        key_id = self._key_of(domain_event)
        if key_id is None:
            return super().to_stored_event(domain_event)
        seal, state = self._sealer(key_id), vars(domain_event)
        if isinstance(domain_event, Snapshot):
            aggregate = resolve_topic(domain_event.topic)
            sealed = {**state, "state": self.declared.seal(aggregate, domain_event.state, seal)}
        else:
            sealed = self.declared.seal(type(domain_event), state, seal)
        copy = object.__new__(type(domain_event))
        object.__setattr__(copy, "__dict__", sealed)
        return super().to_stored_event(copy)

    def _key_of(self, domain_event: Any) -> UUID | None:
        """The key of the person the event's aggregate is about: as the service found it
        from the aggregate, or for a snapshot from the aggregate's state in it."""
        if isinstance(domain_event, Snapshot):
            aggregate = resolve_topic(domain_event.topic)
            nominal = self.declared.nominal(aggregate, domain_event.state)
            return None if nominal is None else self.personal.key_for(nominal)
        return (_keys.get() or {}).get(domain_event.originator_id)

    def _sealer(self, key_id: UUID) -> Callable[[Any], str]:
        seal = self.personal.sealing(key_id)
        return lambda value: seal(self.transcoder.encode(value))

    def to_domain_events(self, stored_events: Sequence[StoredEvent]) -> list[Any]:
        """Each of these, the keys their sealed fields need read first in one go (not one
        read a person as each is opened)."""
        self.personal.prepare(s.state for s in stored_events if SEALED_BYTES in s.state)
        return [self.to_domain_event(stored_event) for stored_event in stored_events]

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if SEALED_BYTES in stored_event.state:
            object.__setattr__(event, "__dict__", _walk(vars(event), self._open))
        return event

    def _open(self, token: str) -> Any:
        plain = self.personal.open(token)
        return ERASED if plain is None else self.transcoder.decode(plain)
