"""Personal data on the wire: fields sealed with the key of the person they are about.

A field typed `Personal[T]` holds a person's details (a name, a date of birth, a nominal id,
grounds, an allegation, a free-text note). Producers set it to its plain value. The outbox
writes it sealed: `sealed:v1:<the person's key id>:<base64url of nonce, AES-GCM ciphertext
and tag>`, the plain value's JSON encrypted with that person's key; a list is sealed item by
item. Whatever the producer set is sealed, even a value that looks sealed already (one copied
from another person's event would be opened with their key); only `[erased]` goes as it reads.
A consumer that is given an opener (the `open` context) reads the plain value back, or
`[erased]` once the person's key has been destroyed; without one (read models, replays) the
sealed text is kept as it came, so read models hold nothing readable. Either way a value
marked sealed that is not whole (its key id a UUID) is refused, naming its field.
"""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    WrapValidator,
)

SEALED = "sealed:v1:"
ERASED = "[erased]"
SEAL, OPEN = "seal", "open"  # the serialisation and validation context keys
# a key id as a UUID writes itself: only text of that form is taken for one
KEY_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TOKEN = re.compile(rf"^{SEALED}({KEY_ID}):[A-Za-z0-9_-]+={{0,2}}$")

PERSONAL_NOTE = (
    f"Personal data: sealed on the wire with the key of the person it is about "
    f"({SEALED}<key id>:<ciphertext>); {ERASED} once that key is destroyed."
)

# Seals one plain JSON value (never a list); opens one sealed value to its JSON value.
Sealer = Callable[[Any], str]
Opener = Callable[[str], Any]

T = TypeVar("T")


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED)


def sealed_key(value: object) -> UUID | None:
    """The id of the key a sealed value needs (the person's pseudonym), or None."""
    match = _TOKEN.match(value) if isinstance(value, str) else None
    return _key_id(match.group(1)) if match else None


@lru_cache(maxsize=4096)
def _key_id(text: str) -> UUID:
    """Parsed once for the many values sealed with one person's key (a `UUID` is made in
    Python, a fifth of opening a value)."""
    return UUID(text)


def pseudonym(value: str) -> str:
    """Whom a (sealed) identifier names, the same however often it is sealed: the id of the
    person's key (or the value itself, where it was not sealed). For counting people."""
    key_id = sealed_key(value)
    return value if key_id is None else str(key_id)


def itemwise(value: Any, change: Callable[[Any], Any]) -> Any:
    """`change` applied to a value, or to each item of a list; None stays None."""
    if isinstance(value, list | tuple):
        return [itemwise(item, change) for item in value]
    return None if value is None else change(value)


def _open(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A plain value validated as its type; a sealed one (read from the wire, once seen to be
    whole) kept as it came, or with an opener opened and then validated as its type (but for
    `[erased]`). What a producer gives in Python is kept as it is, for the outbox to seal."""
    if not _anywhere(value, _held):
        return handler(value)
    if info.mode == "json" and _anywhere(value, _malformed):
        raise ValueError(f"not a sealed value ({SEALED}<key id>:<ciphertext>)")
    opener = (info.context or {}).get(OPEN)
    if opener is None:
        return value  # kept sealed (or erased) as it came
    opened = itemwise(value, lambda item: opener(item) if is_sealed(item) else item)
    return opened if _anywhere(opened, _erased) else handler(opened)


def _anywhere(value: Any, test: Callable[[Any], bool]) -> bool:
    """Whether `test` holds of the value, or of any item of a list."""
    if isinstance(value, list | tuple):
        return any(_anywhere(item, test) for item in value)
    return test(value)


def _erased(value: object) -> bool:
    return value == ERASED


def _held(value: Any) -> bool:
    """Sealed or erased: not to be validated as the plain type."""
    return is_sealed(value) or _erased(value)


def _malformed(value: Any) -> bool:
    return is_sealed(value) and _TOKEN.match(value) is None


def _seal(value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
    """With a sealer, every value sealed but one that reads `[erased]`: even one that looks
    sealed already (a copy of someone's sealed value would be opened with their key)."""
    sealer = (info.context or {}).get(SEAL)
    if _anywhere(value, _erased) or (sealer is None and _anywhere(value, _held)):
        return list(value) if isinstance(value, tuple) else value  # as it reads
    plain = handler(value)
    return plain if sealer is None else itemwise(plain, sealer)


def _documented(schema: dict[str, Any]) -> None:
    """The plain value's schema, or a sealed one (a list's items each sealed), or erased."""
    said = ("title", "description", "examples", "default")
    outer: dict[str, Any] = {k: schema.pop(k) for k in said if k in schema}
    plain = dict(schema)
    sealed: dict[str, Any] = {"type": "string", "pattern": _TOKEN.pattern}
    if plain.get("type") == "array":
        sealed = {"type": "array", "items": sealed}
    schema.clear()
    described = outer.pop("description", "")
    schema.update(
        outer,
        anyOf=[plain, sealed, {"const": ERASED}],
        description=f"{described} {PERSONAL_NOTE}".strip(),
    )


Personal = Annotated[
    T,
    WrapValidator(_open),
    WrapSerializer(_seal, when_used="always"),
    Field(json_schema_extra=_documented),
]
