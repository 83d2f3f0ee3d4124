"""Lists in pages: each page at most `limit` rows, the next one named by a cursor, and a
cursor or limit the list did not give refused with 422."""

import base64
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import FastAPI

from plumbing.paging import MAX_LIMIT, NEXT_CURSOR, Page, paged

ROWS: list[dict[str, Any]] = [{"n": n, "name": f"row {n}"} for n in range(1, 8)]
Key = tuple[int, str]
MomentKey = tuple[datetime, str]


def row_key(row: dict[str, Any]) -> Key:
    return row["n"], row["name"]


def listing() -> httpx.AsyncClient:
    app = FastAPI()

    @app.get("/rows")
    async def rows(page: Annotated[Page[Key], paged(Key)]) -> list[dict[str, Any]]:
        after = page.after[0] if page.after else 0
        return page.of([r for r in ROWS if r["n"] > after][: page.fetch], row_key)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


async def test_pages_follow_one_another_by_their_cursors_to_the_last() -> None:
    client, seen, params = listing(), [], dict[str, Any](limit=3)
    while True:
        response = await client.get("/rows", params=params)
        assert response.status_code == 200
        seen.append([row["n"] for row in response.json()])
        if NEXT_CURSOR not in response.headers:
            break
        params["cursor"] = response.headers[NEXT_CURSOR]

    assert seen == [[1, 2, 3], [4, 5, 6], [7]]


async def test_a_list_that_fits_its_page_names_no_next_one() -> None:
    response = await listing().get("/rows")

    assert len(response.json()) == len(ROWS)
    assert NEXT_CURSOR not in response.headers


async def test_a_limit_out_of_bounds_is_refused() -> None:
    client = listing()

    for limit in (0, MAX_LIMIT + 1, "ten"):
        response = await client.get("/rows", params={"limit": limit})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_a_cursor_the_list_did_not_give_is_refused() -> None:
    client = listing()

    for cursor in ("not a cursor", "WyJhIiwgMV0=", "WzEsIlx1MDAwMCJd"):  # ["a", 1]; [1, "\0"]
        response = await client.get("/rows", params={"cursor": cursor})
        assert response.status_code == 422, cursor
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "cursor"]
        assert NEXT_CURSOR in error["msg"]


def moments() -> httpx.AsyncClient:
    """A list sorted by a moment, which it sends PostgreSQL as asyncpg does: in UTC."""
    app = FastAPI()

    @app.get("/events")
    async def events(page: Annotated[Page[MomentKey], paged(MomentKey)]) -> list[dict[str, Any]]:
        if page.after:
            page.after[0].astimezone(UTC)
        return []

    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


def cursor_of(*key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


async def test_a_cursor_with_a_moment_at_the_edge_of_time_is_refused() -> None:
    client = moments()

    within = await client.get("/events", params={"cursor": cursor_of("2026-03-01T09:30:00Z", "e")})
    assert within.status_code == 200
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = await client.get("/events", params={"cursor": cursor_of(moment, "e")})
        assert response.status_code == 422, moment
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "cursor"]
        assert NEXT_CURSOR in error["msg"]
