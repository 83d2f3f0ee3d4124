"""A stand-in for the MOSOVO teams' own systems on the embedded stack.

Webhooks: it checks each alert's signature, drops a second copy by its idempotency key
(counting it), and lists what each team received. Email: a real SMTP server (aiosmtpd) on
SMTP_PORT keeps every message by recipient. A test may ask it to fail (or hang on) a team's
next few webhook deliveries, to see retries at work. Under `up` the SMTP server takes email
on a socket the stack bound and holds (as each service's HTTP socket), so that two stacks
started together cannot both choose SMTP_PORT, and one then fail to bind it.

Each inbox lists in arrival order, each entry with its `position` (1, 2, ...): a poller asks
for what arrived `after` the last position it saw; without `after`, the last `limit` arrived.
A poller may also ask to `wait` up to so many seconds for something to arrive after `after`
(a long poll): one request per arrival rather than one per look.
"""

import asyncio
import contextlib
import hmac
import socket
from collections.abc import Callable
from email import message_from_bytes
from typing import Annotated, Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, Header, HTTPException, Query, Request
from pydantic import BaseModel, Field

from plumbing.paging import DEFAULT_LIMIT, Limit
from plumbing.settings import Settings
from schemas import dates
from services.notification.channels import SIGNATURE_HEADER, sign


class LongPolls:
    """The long polls waiting on the inboxes, woken when something arrives in one."""

    def __init__(self) -> None:
        self.changed = asyncio.Condition()

    async def wake(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def listed(
        self,
        entries: Callable[[], list[dict[str, Any]]],
        after: int | None,
        limit: int,
        wait: float,
    ) -> list[dict[str, Any]]:
        """What `arrived` lists of the inbox `entries` gives, once it holds more than
        `after` or `wait` seconds have passed (an inbox may come into being meanwhile)."""
        if after is not None and wait > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait), self.changed:
                    await self.changed.wait_for(lambda: len(entries()) > after)
        return arrived(entries(), after, limit)


class Mailboxes:
    """aiosmtpd handler: keeps each message, by recipient."""

    def __init__(self, polls: LongPolls) -> None:
        self.polls = polls
        self.by_recipient: dict[str, list[dict[str, Any]]] = {}

    async def handle_DATA(  # noqa: N802  (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        message = message_from_bytes(envelope.original_content or b"")
        for recipient in envelope.rcpt_tos:
            mailbox = self.by_recipient.setdefault(recipient, [])
            mailbox.append(
                {
                    "position": len(mailbox) + 1,
                    "from": envelope.mail_from,
                    "subject": message["Subject"],
                    "message_id": message["Message-ID"],
                    "idempotency_key": message["Idempotency-Key"],
                    "body": message.get_payload(decode=True).decode(),  # type: ignore[union-attr]
                    "received_at": dates.now().isoformat(),
                }
            )
        await self.polls.wake()
        return "250 OK"


class FailNext(BaseModel):
    count: int = Field(ge=0, description="How many of the team's next webhooks to refuse.")
    hang_seconds: float = Field(
        default=0,
        ge=0,
        le=600,
        description="How long to hold each before refusing it: longer than the sender's "
        "timeout, a system that hangs.",
    )


After = Annotated[
    int | None,
    Query(ge=0, description="Only what arrived after this position; absent: the last `limit`."),
]
Wait = Annotated[
    float,
    Query(
        ge=0,
        le=30,
        description="With `after`: when nothing has arrived after it yet, wait up to this many "
        "seconds for something to (a long poll); 0, the default, answers at once.",
    ),
]


def arrived(entries: list[dict[str, Any]], after: int | None, limit: int) -> list[dict[str, Any]]:
    """Entries in arrival order: the `limit` after position `after`, else the last `limit`."""
    start = max(len(entries) - limit, 0) if after is None else after
    return entries[start : start + limit]


def create_app(
    settings: Settings | None = None, smtp_socket: socket.socket | None = None
) -> FastAPI:
    """The team inbox; its SMTP server on `smtp_socket` (bound and listening) when given, else
    bound to SMTP_HOST:SMTP_PORT."""
    config = settings or Settings()
    secret = config.webhook_secret.get_secret_value()
    received: dict[str, list[dict[str, Any]]] = {}
    by_key: dict[str, dict[str, dict[str, Any]]] = {}
    failures_to_come: dict[str, FailNext] = {}
    polls = LongPolls()
    mailboxes = Mailboxes(polls)
    smtp: list[asyncio.Server] = []

    async def start_smtp() -> None:
        loop = asyncio.get_running_loop()
        where: dict[str, Any] = (
            {"sock": smtp_socket}
            if smtp_socket is not None
            else {"host": config.smtp_host, "port": config.smtp_port}
        )
        smtp.append(await loop.create_server(lambda: SMTP(mailboxes, loop=loop), **where))

    async def stop_smtp() -> None:
        for server in smtp:
            server.close()

    app = FastAPI(
        title="civil-orders team inbox (embedded stand-in for MOSOVO team systems)",
        on_startup=[start_smtp],
        on_shutdown=[stop_smtp],
    )

    @app.post("/teams/{team}/alerts", status_code=202)
    async def receive(
        team: str,
        request: Request,
        signature: Annotated[str, Header(alias=SIGNATURE_HEADER)],
        idempotency_key: Annotated[str, Header()],
    ) -> dict[str, str]:
        body = await request.body()
        if not hmac.compare_digest(signature, sign(secret, body)):
            raise HTTPException(401, "signature does not match the shared secret")
        failing = failures_to_come.get(team)
        if failing is not None and failing.count > 0:
            failing.count -= 1
            await asyncio.sleep(failing.hang_seconds)
            raise HTTPException(503, "the team's system is unavailable (as asked)")
        inbox, seen = received.setdefault(team, []), by_key.setdefault(team, {})
        if idempotency_key in seen:
            seen[idempotency_key]["copies"] += 1
            return {"status": "duplicate dropped"}
        seen[idempotency_key] = {
            "position": len(inbox) + 1,
            "idempotency_key": idempotency_key,
            "received_at": dates.now().isoformat(),
            "copies": 1,
            "alert": await request.json(),
        }
        inbox.append(seen[idempotency_key])
        await polls.wake()
        return {"status": "accepted"}

    @app.get("/teams/{team}/alerts")
    async def listing(
        team: str, after: After = None, limit: Limit = DEFAULT_LIMIT, wait: Wait = 0
    ) -> list[Any]:
        """What the team received, in arrival order (a second copy counted, not listed)."""
        return await polls.listed(lambda: received.get(team, []), after, limit, wait)

    @app.post("/teams/{team}/fail-next", status_code=204)
    async def fail_next(team: str, body: FailNext) -> None:
        failures_to_come[team] = body

    @app.get("/mail/{address}")
    async def mail(
        address: str, after: After = None, limit: Limit = DEFAULT_LIMIT, wait: Wait = 0
    ) -> list[Any]:
        """The messages sent to `address`, in arrival order."""
        return await polls.listed(
            lambda: mailboxes.by_recipient.get(address, []), after, limit, wait
        )

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app
