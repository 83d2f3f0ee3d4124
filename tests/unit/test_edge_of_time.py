"""A moment given from outside (`Moment`: a filter's bound) falls in the years asyncpg can
send: near either end of Python's calendar it cannot move one to UTC, and what would have
been a 500 (a 502 at the web app) is a 422 naming the field."""

from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from plumbing.runtime import create_app
from plumbing.settings import PACKAGED_CONFIG, Settings
from schemas.dates import Moment
from services.referral.main import definition as referral
from services.web.auth import issue_token, load_users
from services.web.main import definition as web

EDGES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
IN_RANGE = "must fall in the years 1900 to 2199"
SETTINGS = Settings(database_url="postgresql://unused/x", kafka_bootstrap_servers="unused:9092")


def client(app: Any, host: str) -> httpx.AsyncClient:
    app.state.settings = SETTINGS
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)  # a failure is a 500
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")


@pytest.mark.parametrize("edge", EDGES)
def test_a_moment_at_the_edge_of_time_is_refused(edge: str) -> None:
    with pytest.raises(ValidationError, match=IN_RANGE):
        TypeAdapter(Moment).validate_python(edge)


@pytest.mark.parametrize("moment", ["1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59-14:00"])
def test_a_moment_in_the_first_or_last_year_is_taken(moment: str) -> None:
    assert TypeAdapter(Moment).validate_python(moment).isoformat() == moment


@pytest.mark.parametrize("edge", EDGES)
async def test_the_candidates_flagged_since_the_edge_of_time_are_refused_not_failed_on(
    edge: str,
) -> None:
    caseworker = load_users(PACKAGED_CONFIG / "users.yaml")["cw-1"]
    since = {"identified_since": edge}
    async with client(create_app(referral, SETTINGS), "referral") as service:
        listed = await service.get("/candidates", params=since)
        counted = await service.post(
            "/candidates/count", json={"crime_references": ["CR/1"], **since}
        )
    async with client(create_app(web, SETTINGS), "web") as app:
        token = {"Authorization": f"Bearer {issue_token(SETTINGS, caseworker)}"}
        through_the_web = await app.get("/api/candidates", params=since, headers=token)

    for response, where in [
        (listed, "query"),
        (counted, "body"),
        (through_the_web, "query"),
    ]:
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == [where, "identified_since"]
        assert error["msg"] == IN_RANGE
