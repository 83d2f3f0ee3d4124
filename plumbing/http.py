"""HTTP edges shared by the services: who is acting, and errors as clear responses."""

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from plumbing.errors import CommandRejected, NotFound
from plumbing.eventstore import Trace


def request_trace(
    x_actor: Annotated[
        str, Header(min_length=1, description="Who is acting, e.g. caseworker:cw-1")
    ],
    x_correlation_id: Annotated[UUID | None, Header()] = None,
) -> Trace:
    """The acting user and correlation id of an HTTP command (sign-in comes with the web app)."""
    return Trace(actor=x_actor, correlation_id=x_correlation_id or uuid4())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommandRejected)
    async def rejected(request: Request, error: CommandRejected) -> JSONResponse:
        status = 404 if isinstance(error, NotFound) else 409
        return JSONResponse({"detail": str(error)}, status_code=status)
