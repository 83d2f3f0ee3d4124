"""The HTTP edge every service and the web app share: input PostgreSQL could not store, in
JSON or in a form, or too large or deep to read, is refused with a 4xx naming where; a
validation error quotes what it was given only as text that can be written out; the web app
passes any body on."""

import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from plumbing.http import MAX_BODY_BYTES, MAX_DEPTH, install_error_handlers, install_text_guard
from services.web.backend import Backend


class Note(BaseModel):
    text: str
    count: int = 0


def service(guarded: bool = True) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)
    if guarded:
        install_text_guard(app)

    @app.post("/notes")
    async def note(body: Note) -> dict[str, str]:
        return {"text": body.text}

    @app.post("/anything")
    async def anything(body: dict[str, Any]) -> int:
        return len(body)

    @app.post("/form")
    async def form(request: Request) -> dict[str, str]:
        fields = (await request.form()).multi_items()
        return {key: value if isinstance(value, str) else "a file" for key, value in fields}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


def as_json(text: str, encoding: str = "utf-8") -> dict[str, Any]:
    return {"content": text.encode(encoding), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (as_json('{"text": "\\udc00"}'), ["body", "text"]),
        (as_json('{"text": "ok", "\\uD800": 1}'), ["body", "\\ud800"]),
        (as_json('{"text": "\\udc00"}', "utf-16"), ["body", "text"]),
        ({"content": b'{"text": "\xed\xb0\x80"}'}, ["body", "text"]),  # UTF-8 of a surrogate
        (as_json('{"text": ["a", "\\u0000"]}'), ["body", "text", 1]),
        (as_json('{"text": "sealed\\u003av1:x"}'), ["body", "text"]),  # the mark, escaped
    ],
)
async def test_text_postgresql_could_not_store_is_refused_naming_where(
    body: dict[str, Any], where: list[object]
) -> None:
    response = await service().post("/anything", **body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == where
    assert error["type"] == "string_unstorable"


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "body",
    [
        {"content": b"logging=false&reason=pause+for%00+migration", "headers": FORM},
        {"content": b"logging=false&reason=pause+for\x00+migration", "headers": FORM},
        {"content": b"logging=false&reason=sealed%3Av1%3Axyz", "headers": FORM},  # the mark
        {"data": {"logging": "false"}, "files": {"reason": (None, "pause for\x00 migration")}},
    ],
    ids=["escaped", "raw", "sealed-mark", "multipart"],
)
async def test_a_form_field_postgresql_could_not_store_is_refused_naming_it(
    body: dict[str, Any],
) -> None:
    response = await service().post("/form", **body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "reason"]
    assert error["type"] == "string_unstorable"


async def test_a_form_of_storable_text_and_a_file_of_any_bytes_reaches_its_route() -> None:
    response = await service().post(
        "/form", data={"reason": "east and west merged"}, files={"scan": ("a.bin", b"\x00\xff")}
    )

    assert response.status_code == 200
    assert response.json() == {"reason": "east and west merged", "scan": "a file"}


async def test_a_surrogate_pair_is_one_character_and_welcome() -> None:
    response = await service().post("/notes", **as_json('{"text": "\\ud83d\\ude00"}'))

    assert response.status_code == 200
    assert response.json() == {"text": "\U0001f600"}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000, 100_000])
async def test_json_nested_too_deeply_is_refused(depth: int) -> None:
    response = await service().post("/notes", **as_json("[" * depth + "]" * depth))

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_too_deep"


async def test_json_nested_as_deep_as_allowed_is_read() -> None:
    lists = MAX_DEPTH - 1  # inside the object
    response = await service().post(
        "/anything", **as_json('{"a": ' + "[" * lists + "]" * lists + "}")
    )

    assert response.status_code == 200


async def test_a_body_too_large_for_an_event_is_refused() -> None:
    response = await service().post("/notes", json={"text": "x" * MAX_BODY_BYTES})

    assert response.status_code == 413


async def test_a_validation_error_quotes_undecodable_input_as_escapes() -> None:
    response = await service(guarded=False).post("/notes", **as_json('{"text": ["\\udc00"]}'))

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "text"]
    assert error["input"] == ["\\udc00"]  # the escape, as text


async def test_a_validation_error_quotes_numbers_json_cannot_write_as_text() -> None:
    response = await service().post("/notes", **as_json('{"text": [NaN, -Infinity]}'))

    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == ["nan", "-inf"]


async def test_the_web_app_passes_on_a_body_it_could_not_encode_as_utf8() -> None:
    received: list[bytes] = []

    def owning_service(request: httpx.Request) -> httpx.Response:
        received.append(request.content)
        return httpx.Response(422, json={"detail": "refused"})

    backend = Backend({"referral": "http://referral"})
    backend.http = httpx.AsyncClient(transport=httpx.MockTransport(owning_service))
    request = SimpleNamespace(state=SimpleNamespace(correlation_id="c0ffee"))
    user = SimpleNamespace(actor="caseworker:cw-1")

    with pytest.raises(Exception) as refused:
        await backend.call(request, user, "referral", "POST", "/referrals", {"grounds": "\udc00"})  # type: ignore[arg-type]

    assert getattr(refused.value, "status_code", None) == 422
    assert json.loads(received[0]) == {"grounds": "\udc00"}
