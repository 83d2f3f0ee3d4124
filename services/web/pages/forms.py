"""Forms: their fields, a service's refusal of one (a Problem), and waiting for its effect."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from starlette.datastructures import FormData

from schemas.refusals import CommandRejected, NotFound
from services.web import api
from services.web.auth import User
from services.web.pages.common import readable

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """A service's refusal of a form, shown next to it with what was entered."""

    form: str
    message: str
    values: FormData
    status: int


async def attempt(form: str, values: FormData, command: Awaitable[T]) -> T | Problem:
    """Run a command; a refusal (other than sign-in and permission) becomes a Problem."""
    try:
        return await command
    except HTTPException as error:
        if error.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            raise
        return Problem(form, readable(error.detail), values, error.status_code)
    except CommandRejected as error:  # refused by this app's own service, as the API answers
        code = 404 if isinstance(error, NotFound) else 409
        return Problem(form, str(error), values, code)


def text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def filled(form: FormData, *skip: str) -> dict[str, Any]:
    """The form's fields that were filled in (the owning service validates them)."""
    return {name: text(form, name) for name in form if name not in skip and text(form, name)}


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


async def caught_up(check: Callable[[], Awaitable[bool]], seconds: float = 3) -> None:
    """Wait briefly until the read models show a command's effect, so the page shows it."""
    for _ in range(int(seconds / 0.25)):
        if await check():
            return
        await asyncio.sleep(0.25)


async def service_enum(request: Request, user: User, service: str, name: str) -> list[str]:
    """A list of choices as the owning service publishes it in its API description."""
    cache: dict[tuple[str, str], list[str]] | None = getattr(request.app.state, "enums", None)
    if cache is None:
        cache = request.app.state.enums = {}
    if (service, name) not in cache:
        document = await api.call(request, user, service, "GET", "/openapi.json")
        cache[service, name] = list(document["components"]["schemas"][name]["enum"])
    return cache[service, name]
