"""The web API as one signed-in member of the synthetic staff uses it."""

from typing import Any

import httpx

from civil_orders.stack.client import Client


class Web:
    """The web API as one signed-in person uses it."""

    def __init__(self, client: Client, username: str) -> None:
        self.client, self.username = client, username
        self.url = client.urls["web"]
        self.token = ""

    async def sign_in(self) -> "Web":
        response = await self.client.http.post(
            f"{self.url}/api/token", json={"username": self.username}
        )
        response.raise_for_status()
        self.token = response.json()["access_token"]
        return self

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return await self.client.http.request(
            method, f"{self.url}{path}", headers=headers, **kwargs
        )


async def as_(client: Client, username: str) -> Web:
    return await Web(client, username).sign_in()
