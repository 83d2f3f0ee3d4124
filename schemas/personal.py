"""Personal data on the wire: fields sealed with the key of the person they are about.

A field typed `Personal[T]` holds a person's details (a name, a date of birth, a nominal id,
grounds, an allegation, a free-text note). Producers set it to its plain value. The outbox
writes it sealed: `sealed:v1:<the person's key id>:<base64url of nonce, AES-GCM ciphertext
and tag>`, the plain value's JSON encrypted with that person's key; a list is sealed item by
item. A consumer that is given an opener (the `open` context) reads the plain value back, or
`[erased]` once the person's key has been destroyed; without one (read models, replays) the
sealed text is kept as it came, so read models hold nothing readable.
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
_TOKEN = re.compile(r"^sealed:v1:([0-9a-f-]{36}):[A-Za-z0-9_-]+={0,2}$")

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
    opener = (info.context or {}).get(OPEN)
    if opener is None:
        if _held(value):
            return value  # kept sealed (or erased) as it came
        return handler(value)
    opened = itemwise(value, lambda item: opener(item) if is_sealed(item) else item)
    return opened if _held(opened) else handler(opened)


def _held(value: Any) -> bool:
    """Sealed or erased, anywhere in it: not to be validated as the plain type."""
    if isinstance(value, list | tuple):
        return any(_held(item) for item in value)
    return is_sealed(value) or value == ERASED


def _seal(value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
    if _held(value):
        return list(value) if isinstance(value, tuple) else value
    plain = handler(value)
    sealer = (info.context or {}).get(SEAL)
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
