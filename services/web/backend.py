"""The web app's calls to the services that own each command and query."""

import json
from typing import Any

import httpx
from fastapi import HTTPException, Request, status

from plumbing.paging import NEXT_CURSOR, ForwardedPage
from services.web.auth import User


class Backend:
    """Calls a service as the signed-in user (X-Actor), under the request's correlation id.
    A service's refusal comes back as it was given (status and detail); a service that is
    down or failing is a 503 or 502 naming it, never its stack trace."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(timeout=30.0)  # pooled for the life of the process

    async def call(
        self,
        request: Request,
        user: User,
        service: str,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return _body(await self._send(request, user, service, method, path, body, params))

    async def page(
        self, request: Request, user: User, service: str, path: str, page: ForwardedPage,
        params: dict[str, Any],
    ) -> Any:  # fmt: skip
        """A page of a list the service keeps, its next page's cursor passed back in `page`."""
        query = {**params, **page.params}
        response = await self._send(request, user, service, "GET", path, None, query)
        page.pass_back(response.headers.get(NEXT_CURSOR))
        return _body(response)

    async def _send(
        self,
        request: Request,
        user: User,
        service: str,
        method: str,
        path: str,
        body: Any,
        params: dict[str, Any] | None,
    ) -> httpx.Response:
        headers = {
            "X-Actor": user.actor,
            "X-Correlation-Id": str(request.state.correlation_id),
        }
        content = None
        if body is not None:  # as ASCII, escapes and all: the owning service judges the text
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = f"{self.urls[service]}{path}"
        try:
            response = await self.http.request(
                method, url, content=content, params=query, headers=headers
            )
        except httpx.HTTPError:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"the {service} service is not answering"
            ) from None
        if response.status_code >= 500:
            raise HTTPException(
                status.HTTP_502_BAD_GATEWAY, f"the {service} service failed; try again later"
            )
        if response.status_code >= 400:
            raise HTTPException(response.status_code, _detail(response))
        return response


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail", response.text)
    except ValueError:
        return response.text
