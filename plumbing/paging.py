"""Lists in pages: at most `limit` rows in the list's own order, and a cursor to the next page.

A cursor is the sort key of the last row shown, opaque to clients: the next page starts just
after it (keyset paging), so a page costs the same however long the history grows, and rows
recorded meanwhile neither repeat nor shift a page. The rows stay a JSON list, as before;
the next page's cursor comes in the `X-Next-Cursor` header, absent on the last page."""

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from schemas.dates import within_years

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
NEXT_CURSOR = "X-Next-Cursor"

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many rows: 1 to {MAX_LIMIT}.")
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=1000,
        description=f"Where the page starts: the `{NEXT_CURSOR}` header of the page before. "
        "Absent: the first page.",
    ),
]
K = TypeVar("K", bound=tuple[Any, ...])
Row = dict[str, Any]
# Integers of a sort key as PostgreSQL holds them (an integer; a count or position, never
# negative, in a bigint), so a forged cursor is refused rather than failed on.
Int4 = Annotated[int, Field(ge=-(2**31), lt=2**31)]
Count = Annotated[int, Field(ge=0, lt=2**63)]


@dataclass(frozen=True)
class Page(Generic[K]):
    """A request for one page: its limit, the key it starts after (None: the first page),
    and the response whose header names the next one."""

    limit: int
    after: K | None
    keys: TypeAdapter[K]
    response: Response

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page shows, to know whether one follows."""
        return self.limit + 1

    def of(self, rows: Sequence[Row], key: Callable[[Row], K]) -> list[Row]:
        """The page's rows of those fetched; names the next page's cursor when one follows."""
        shown = list(rows[: self.limit])
        if len(rows) > self.limit:
            cursor = base64.urlsafe_b64encode(self.keys.dump_json(key(shown[-1])))
            self.response.headers[NEXT_CURSOR] = cursor.decode()
        return shown


def paged(key: Any) -> Any:
    """The dependency for a page of a list sorted by `key` (the type of a row's sort key):
    `limit` and `cursor` from the query, a cursor this list did not give refused with 422."""
    keys: TypeAdapter[Any] = TypeAdapter(key)

    async def page(
        response: Response, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[Any]:
        return Page(limit, None if cursor is None else _decoded(keys, cursor), keys, response)

    return Depends(page)


def _decoded(keys: TypeAdapter[K], cursor: str) -> K:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode())
        if b"\\u0000" in decoded:  # text PostgreSQL cannot hold
            raise ValueError(cursor)
        key = keys.validate_json(decoded)
        for part in key:  # its moments, in the years asyncpg can send, as a Moment's
            if isinstance(part, datetime):
                within_years(part)
        return key
    except (ValidationError, binascii.Error, ValueError):
        error = {
            "type": "cursor",
            "loc": ["query", "cursor"],
            "msg": f"Not a cursor of this list: give the {NEXT_CURSOR} header of a page of it",
            "input": cursor,
        }
        raise RequestValidationError([error]) from None


@dataclass(frozen=True)
class ForwardedPage:
    """A page asked of a list another service keeps (the web app's API): passed on as
    given, that service judging the cursor, and its next page's cursor passed back."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    response: Response = field(default_factory=Response)

    @property
    def params(self) -> dict[str, Any]:
        return {"limit": self.limit, "cursor": self.cursor}

    @property
    def next_cursor(self) -> str | None:
        return self.response.headers.get(NEXT_CURSOR)

    def pass_back(self, next_cursor: str | None) -> None:
        if next_cursor:
            self.response.headers[NEXT_CURSOR] = next_cursor


async def forwarded_page(
    response: Response, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ForwardedPage:
    return ForwardedPage(limit, cursor, response)
