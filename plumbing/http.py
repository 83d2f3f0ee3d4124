"""HTTP edges shared by the services: who is acting, and errors as clear responses."""

import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated
from uuid import UUID, uuid4

import structlog
from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse

from plumbing.errors import CommandRejected, NotFound
from plumbing.eventstore import Trace

CORRELATION_HEADER = "X-Correlation-Id"
NUL = "\x00"
log = structlog.get_logger()


def request_trace(
    request: Request,
    x_actor: Annotated[
        str, Header(min_length=1, description="Who is acting, e.g. caseworker:cw-1")
    ],
) -> Trace:
    """The acting user and correlation id of an HTTP command (sign-in comes with the web app)."""
    return Trace(actor=x_actor, correlation_id=request.state.correlation_id)


def install_correlation(app: FastAPI) -> None:
    """Every request gets a correlation id (the caller's X-Correlation-Id, or a new one),
    carried into the events it causes and every log line written while handling it."""

    @app.middleware("http")
    async def correlate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get(CORRELATION_HEADER)
        try:
            correlation_id = UUID(given) if given else uuid4()
        except ValueError:
            detail = f"{CORRELATION_HEADER} must be a UUID"
            return JSONResponse({"detail": detail}, status_code=422)
        request.state.correlation_id = correlation_id
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=str(correlation_id)):
            response = await call_next(request)
            if request.method != "GET":
                log.info(
                    "command handled",
                    method=request.method,
                    path=request.url.path,
                    status=response.status_code,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )
        response.headers[CORRELATION_HEADER] = str(correlation_id)
        return response


def install_text_guard(app: FastAPI) -> None:
    """PostgreSQL text cannot hold NUL characters, so a request carrying one in its path,
    query or JSON body is refused as invalid: stored, it would stop every projection of it."""

    @app.middleware("http")
    async def refuse_nul(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        query = request.query_params.multi_items()
        where = _nul_in(request.scope["path"], query, await request.body())
        if where is None:
            return await call_next(request)
        error = {"type": "string_nul", "loc": where, "msg": "Text must not contain NUL (\\x00)"}
        return JSONResponse({"detail": [error]}, status_code=422)


Location = list[str | int]


def _nul_in(path: str, query: list[tuple[str, str]], body: bytes) -> Location | None:
    if NUL in path:
        return ["path"]
    for key, value in query:
        if NUL in key + value:
            return ["query", key]
    if b"\\u0000" not in body:  # how JSON writes NUL; then look where, if it is JSON at all
        return None
    try:
        return _nul_at(json.loads(body), ["body"])
    except ValueError:
        return None  # the route's own validation refuses it


def _nul_at(value: object, loc: Location) -> Location | None:
    if isinstance(value, str):
        return loc if NUL in value else None
    items: Iterable[tuple[str | int, object]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = [*loc, key] if NUL in str(key) else _nul_at(item, [*loc, key])
        if found:
            return found
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(IntegrityError)
    async def conflicted(request: Request, error: IntegrityError) -> JSONResponse:
        detail = "the record was changed by someone else at the same moment; try again"
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(CommandRejected)
    async def rejected(request: Request, error: CommandRejected) -> JSONResponse:
        status = 404 if isinstance(error, NotFound) else 409
        return JSONResponse({"detail": str(error)}, status_code=status)
