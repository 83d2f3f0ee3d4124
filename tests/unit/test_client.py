"""The command line's calls survive a dropped connection: what may safely go twice is sent
again; a failure that lasts ends the command with one line, not a traceback."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from civil_orders import cli
from civil_orders.stack.client import ATTEMPTS, Client


class Dropping:
    """A service whose connection fails under its first `times` requests."""

    def __init__(self, times: int, error: type[httpx.TransportError] = httpx.ReadError) -> None:
        self.times, self.error = times, error
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        if len(self.seen) <= self.times:
            # as httpcore's do: the client, not the transport, attaches the request
            raise self.error("the server had closed the pooled connection")
        return httpx.Response(200, json={"id": "r-1"})

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Client]:
        urls, transport = {"referral": "http://referral"}, httpx.MockTransport(self)
        client = Client(urls, "127.0.0.1:1", "postgresql://x/y", transport)
        try:
            yield client
        finally:
            await client.__aexit__()  # never entered: it needs no broker


async def test_a_read_whose_connection_dropped_is_sent_again() -> None:
    service = Dropping(times=2)

    async with service.client() as client:
        response = await client.get("referral", "/referrals")

    assert response.status_code == 200
    assert service.seen == ["GET", "GET", "GET"]


async def test_a_put_whose_connection_dropped_is_sent_again() -> None:
    service = Dropping(times=1, error=httpx.RemoteProtocolError)

    async with service.client() as client:
        await client.command("referral", "/referrals/r-1", "cw", {}, method="PUT")

    assert service.seen == ["PUT", "PUT"]


async def test_a_post_is_sent_again_only_when_its_connection_was_refused() -> None:
    refused, dropped = Dropping(times=1, error=httpx.ConnectError), Dropping(times=1)

    async with refused.client() as client:
        assert await client.command("referral", "/referrals", "cw", {}) == {"id": "r-1"}
    async with dropped.client() as client:
        with pytest.raises(httpx.ReadError):
            await client.command("referral", "/referrals", "cw", {})

    assert refused.seen == ["POST", "POST"]
    assert dropped.seen == ["POST"]  # it may have been recorded: sent again, it could be twice


async def test_a_connection_that_keeps_dropping_fails_after_the_last_attempt() -> None:
    service = Dropping(times=ATTEMPTS)

    async with service.client() as client:
        with pytest.raises(httpx.ReadError):
            await client.get("referral", "/referrals")

    assert len(service.seen) == ATTEMPTS


def test_a_call_that_keeps_failing_ends_the_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    request = httpx.Request("GET", "http://referral/referrals")

    def command() -> None:
        raise httpx.ReadError("connection dropped", request=request)

    monkeypatch.setattr(cli, "app", command)
    with pytest.raises(SystemExit) as ended:
        cli.main()

    assert ended.value.code == 1
    assert capsys.readouterr().out.splitlines() == [
        f"GET http://referral/referrals failed after {ATTEMPTS} tries: ReadError connection dropped"
    ]
