"""HTTP edges shared by the services: who is acting, and errors as clear responses."""

import json
import math
import re
import time
from typing import Annotated
from uuid import UUID, uuid4

import structlog
from eventsourcing.persistence import IntegrityError
from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.refusals import CommandRejected, NotFound
from schemas.text import storable_text, unstorable
from schemas.trace import Trace

CORRELATION_HEADER = "X-Correlation-Id"
_CORRELATION = CORRELATION_HEADER.lower().encode()  # as ASGI servers give header names
log = structlog.get_logger()


async def request_trace(
    request: Request,
    x_actor: Annotated[
        str, Header(min_length=1, description="Who is acting, e.g. caseworker:cw-1")
    ],
) -> Trace:
    """The acting user and correlation id of an HTTP command (sign-in comes with the web app)."""
    return Trace(actor=x_actor, correlation_id=request.state.correlation_id)


# What a command route takes to know who acts in it
Acting = Annotated[Trace, Depends(request_trace)]


def install_correlation(app: FastAPI) -> None:
    """Every request gets a correlation id (the caller's X-Correlation-Id, or a new one),
    carried into the events it causes and every log line written while handling it."""
    app.add_middleware(Correlation)


def install_text_guard(app: FastAPI) -> None:
    """PostgreSQL text cannot hold NUL characters or unpaired surrogates (JSON can escape
    either), so a request carrying one in its path, query, JSON body or form is refused as
    invalid: stored, it would stop every projection of it. So is a body too large to go on the
    wire as an event, or nested too deeply to read without running out of stack."""
    app.add_middleware(TextGuard)


# Both are plain ASGI middleware: Starlette's `@app.middleware("http")` runs each request
# through a task group and memory streams of its own, and at 16 commands in flight was a
# third of the CPU of a service's event loop.


class HttpMiddleware:
    """Plain ASGI middleware that looks at HTTP requests (`http`) and passes the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class Correlation(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == _CORRELATION), None)
        try:
            correlation_id = UUID(given) if given else uuid4()
        except ValueError:
            detail = f"{CORRELATION_HEADER} must be a UUID"
            await JSONResponse({"detail": detail}, status_code=422)(scope, receive, send)
            return
        scope.setdefault("state", {})["correlation_id"] = correlation_id  # request.state
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(CORRELATION_HEADER, str(correlation_id))
            await send(message)

        started = time.perf_counter()
        # bound and reset by token: bound_contextvars copies and searches the whole context
        bound = structlog.contextvars.bind_contextvars(correlation_id=str(correlation_id))
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["method"] != "GET":
                log.info(
                    "command handled",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )
            structlog.contextvars.reset_contextvars(**bound)


class TextGuard(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        if body is None:
            detail = f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB"
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        query = QueryParams(scope["query_string"]).multi_items() if scope["query_string"] else []
        found = _unstorable_in(scope["path"], query) or await _unstorable_in_body(scope, body)
        if found is not None:
            where, reason = found
            kind = "json_too_deep" if reason == TOO_DEEP else "string_unstorable"
            error = {"type": kind, "loc": where, "msg": reason}
            await JSONResponse({"detail": [error]}, status_code=422)(scope, receive, send)
            return
        read = False

        async def once_more() -> Message:
            """The body read here, then whatever else the client sends (a disconnect)."""
            nonlocal read
            if read:
                return await receive()
            read = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, once_more, send)


async def _body(receive: Receive) -> bytes | None:
    """The whole request body; None once it is larger than `MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


MAX_BODY_BYTES = 256 * 1024  # well inside a Kafka message (1 MiB), whatever the event adds
MAX_DEPTH = 32
TOO_DEEP = f"JSON must not nest deeper than {MAX_DEPTH} levels"
Location = list[str | int]
Found = tuple[Location, str]
# how JSON writes NUL, a surrogate, or any other ASCII character (the mark of a sealed value
# written with an escape, say): only a body with one of these needs looking into
ESCAPED = re.compile(r"\\u(00[0-7][0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2})")
FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")  # as Starlette reads


def _unstorable_in(path: str, query: list[tuple[str, str]]) -> Found | None:
    if reason := unstorable(path):
        return ["path"], reason
    return _unstorable_field("query", query)


def _unstorable_field(place: str, fields: list[tuple[str, str]]) -> Found | None:
    for key, value in fields:
        if reason := unstorable(key + value):
            return [place, storable_text(key)], reason
    return None


async def _unstorable_in_body(scope: Scope, body: bytes) -> Found | None:
    content_type, _ = parse_options_header(Headers(scope=scope).get("content-type"))
    if content_type in FORMS:
        return await _unstorable_in_form(scope, body)
    return _unstorable_in_json(body)


async def _unstorable_in_form(scope: Scope, body: bytes) -> Found | None:
    """The first field of a form PostgreSQL could not store, the form read as its route will
    read it (URL-encoded or multipart; a file's content is not text, nor looked into)."""

    async def whole() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(scope, whole).form() as form:
            fields = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    except HTTPException:
        return None  # a malformed form: its route refuses it as it reads it
    return _unstorable_field("body", fields)


def _unstorable_in_json(body: bytes) -> Found | None:
    try:  # as the route will read it: UTF-8, 16 or 32, surrogates let through
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError:
        return None  # not JSON: the route's own validation refuses it
    if not (unstorable(text) or ESCAPED.search(text) or _openings(text) > MAX_DEPTH):
        return None
    try:
        return _unstorable_at(json.loads(text))
    except RecursionError:
        return ["body"], TOO_DEEP
    except ValueError:
        return None


def _openings(text: str) -> int:
    """At least as many as the JSON's deepest nesting."""
    return text.count("[") + text.count("{")


def _unstorable_at(document: object) -> Found | None:
    """The first text in a JSON document PostgreSQL could not store, or where it nests too
    deeply; walked without recursion."""
    todo: list[tuple[object, Location]] = [(document, ["body"])]
    while todo:
        value, loc = todo.pop()
        if isinstance(value, str) and (reason := unstorable(value)):
            return loc, reason
        if isinstance(value, dict | list) and len(loc) > MAX_DEPTH:
            return loc, TOO_DEEP
        items: list[tuple[str | int, object]] = []
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        for key, item in reversed(items):  # popped in document order
            if isinstance(key, str) and (reason := unstorable(key)):
                return [*loc, storable_text(key)], reason
            todo.append((item, [*loc, key]))
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        """As FastAPI answers, with any input it echoes written so that it can be encoded."""
        return JSONResponse({"detail": _printable(jsonable_encoder(error.errors()))}, 422)

    @app.exception_handler(IntegrityError)
    async def conflicted(request: Request, error: IntegrityError) -> JSONResponse:
        detail = "the record was changed by someone else at the same moment; try again"
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(CommandRejected)
    async def rejected(request: Request, error: CommandRejected) -> JSONResponse:
        status = 404 if isinstance(error, NotFound) else 409
        return JSONResponse({"detail": str(error)}, status_code=status)


def _printable(value: object) -> object:
    """Decoded JSON as JSON can write it out: its text, keys too, as storable text, and the
    numbers JSON has no words for (Python reads NaN and Infinity) as text."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value
