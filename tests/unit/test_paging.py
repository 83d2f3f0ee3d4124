"""Lists in pages: each page at most `limit` rows, the next one named by a cursor, and a
cursor or limit the list did not give refused with 422."""

from typing import Annotated, Any

import httpx
from fastapi import FastAPI

from plumbing.paging import MAX_LIMIT, NEXT_CURSOR, Page, paged

ROWS: list[dict[str, Any]] = [{"n": n, "name": f"row {n}"} for n in range(1, 8)]
Key = tuple[int, str]


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
