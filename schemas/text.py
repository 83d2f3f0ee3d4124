"""Text PostgreSQL can store: no NUL character, and valid Unicode (JSON's `\\udc00` escape
gives Python a lone surrogate, which has no UTF-8 form). Nor may text that comes in carry the
mark of a sealed value (`sealed:v1:`, see `schemas.personal`): it would be taken for one,
opened (with the key of whoever's value it was copied from) or published as it came."""

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from schemas.personal import SEALED

NUL = "\x00"
SEALED_IN_TEXT = f"Text must not contain '{SEALED}', which marks a sealed value"

# Checked in pydantic's core, not by a Python call per field: the pattern refuses a NUL, and
# a Python string with an unpaired surrogate cannot be matched at all (`string_unicode`).
_STORABLE = core_schema.custom_error_schema(
    core_schema.str_schema(pattern=r"^[^\x00]*\z"),
    custom_error_type="string_unstorable",
    custom_error_message=(
        "Text must not contain NUL (\\x00) or an unpaired surrogate (\\ud800 to \\udfff)"
    ),
)


def _nowhere(mark: str) -> str:
    """A pattern of text in which `mark` (whose first letter is nowhere else in it) is
    nowhere, without the lookahead pydantic's core cannot run: after each first letter, as
    much of the rest of the mark as follows it, cut short by another letter (and whatever
    follows that up to the next first letter), or by the next first letter, or the end."""
    first, after = mark[0], ""
    for letter in reversed(mark[1:]):
        further = f"{letter}{after}|" if after else ""  # (past the mark's last letter: never)
        after = f"(?:{further}[^{letter}{first}][^{first}]*)?"
    return rf"^[^{first}]*(?:{first}{after})*\z"


_UNSEALED = core_schema.custom_error_schema(
    core_schema.str_schema(pattern=_nowhere(SEALED)),
    custom_error_type="string_sealed",
    custom_error_message=SEALED_IN_TEXT,
)


class _Storable:
    """Marks a `str` as text PostgreSQL can store, without the mark of a sealed value,
    checked once it is a valid string (and its other constraints are met); the JSON Schema
    is the plain string's."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema([handler(source), _STORABLE, _UNSEALED])


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
    """Why `text` may not come in (PostgreSQL could not store it, or it carries the mark of a
    sealed value), or None if it may."""
    if NUL in text:
        return "Text must not contain NUL (\\x00)"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "Text must not contain an unpaired surrogate (\\ud800 to \\udfff)"
    if SEALED in text:
        return SEALED_IN_TEXT
    return None


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL could not store written out as escapes (`\\x00`, `\\udc00`),
    for quoting bad input back in a reason or an error."""
    return text.encode(errors="backslashreplace").decode().replace(NUL, "\\x00")
