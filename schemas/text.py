"""Text PostgreSQL can store: no NUL character, and valid Unicode (JSON's `\\udc00` escape
gives Python a lone surrogate, which has no UTF-8 form)."""

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

NUL = "\x00"

# Checked in pydantic's core, not by a Python call per field: the pattern refuses a NUL, and
# a Python string with an unpaired surrogate cannot be matched at all (`string_unicode`).
_STORABLE = core_schema.custom_error_schema(
    core_schema.str_schema(pattern=r"^[^\x00]*\z"),
    custom_error_type="string_unstorable",
    custom_error_message=(
        "Text must not contain NUL (\\x00) or an unpaired surrogate (\\ud800 to \\udfff)"
    ),
)


class _Storable:
    """Marks a `str` as text PostgreSQL can store, checked once it is a valid string (and
    its other constraints are met); the JSON Schema is the plain string's."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema([handler(source), _STORABLE])


def storable(hint: Any) -> Any:
    """`hint` with each `str` in it (alone, optional, in a list, annotated) storable text."""
    if hint is str:
        return Annotated[str, _Storable]
    args = get_args(hint)
    origin = get_origin(hint)
    if not args or origin is None:
        return hint
    if origin is Annotated:
        return Annotated[(storable(args[0]), *hint.__metadata__)]
    if origin in (Union, UnionType):
        return Union[tuple(storable(arg) for arg in args)]  # noqa: UP007
    return origin[tuple(storable(arg) for arg in args)]


def unstorable(text: str) -> str | None:
    """Why PostgreSQL could not store `text`, or None if it could."""
    if NUL in text:
        return "Text must not contain NUL (\\x00)"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "Text must not contain an unpaired surrogate (\\ud800 to \\udfff)"
    return None


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL could not store written out as escapes (`\\x00`, `\\udc00`),
    for quoting bad input back in a reason or an error."""
    return text.encode(errors="backslashreplace").decode().replace(NUL, "\\x00")
