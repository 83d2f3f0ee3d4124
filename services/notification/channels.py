"""Sending an alert over a channel: a signed webhook POST or an email, retried with backoff.

The alert carries the least that lets a team act: what happened, the order reference, a
link. An email's subject carries nothing about the case at all.
"""

import asyncio
import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import structlog

from schemas.configuration import Channel, EmailChannel

log = structlog.get_logger()

SIGNATURE_HEADER = "X-Civil-Orders-Signature"
EMAIL_SUBJECT = "civil-orders: an alert for your team"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    channel: str
    attempts: int
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Transport:
    """How to reach the channels: a new HTTP client for each webhook attempt (which runs in
    an event loop of its own), the webhook secret, the SMTP relay, how long one attempt may
    take (a webhook's in all; SMTP's each step), and retry pacing."""

    http: Callable[[], httpx.AsyncClient]
    secret: str
    smtp_host: str
    smtp_port: int
    sender: str
    timeout_seconds: float
    attempts: int
    backoff_seconds: float


class DeliveryFailed(Exception):
    pass


def deliver(channel: Channel, alert: dict[str, str], key: str, transport: Transport) -> Delivery:
    """Send, retrying with exponential backoff; the key lets a receiver drop a resent copy.
    Whatever goes wrong in building or sending fails this channel, and only this one."""
    error = "not attempted"
    for attempt in range(1, transport.attempts + 1):
        try:
            _send(channel, alert, key, transport)
            return Delivery(channel.describe(), attempt)
        except DeliveryFailed as failure:
            error = str(failure)
        except Exception as failure:  # a channel the notifier cannot use, say
            log.exception("alert channel failed", channel=channel.describe())
            error = f"{type(failure).__name__}: {failure}"
        if attempt < transport.attempts:
            time.sleep(transport.backoff_seconds * 2 ** (attempt - 1))
    return Delivery(channel.describe(), transport.attempts, error)


def _send(channel: Channel, alert: dict[str, str], key: str, transport: Transport) -> None:
    if isinstance(channel, EmailChannel):
        _email(channel, alert, key, transport)
        return
    body = json.dumps(alert, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        SIGNATURE_HEADER: sign(transport.secret, body),
    }
    try:
        response = asyncio.run(_post(str(channel.url), body, headers, transport))
    except TimeoutError as failure:
        raise DeliveryFailed(f"no answer within {transport.timeout_seconds} s") from failure
    except httpx.HTTPError as failure:
        raise DeliveryFailed(f"{type(failure).__name__}: {failure}") from failure
    if not response.is_success:
        raise DeliveryFailed(f"HTTP {response.status_code}")


async def _post(
    url: str, body: bytes, headers: dict[str, str], transport: Transport
) -> httpx.Response:
    """The webhook's answer, its body unread, within the send timeout in all: httpx's own
    bounds each read, and a system that trickles its answer would hold the team's lane."""
    async with (
        asyncio.timeout(transport.timeout_seconds),
        transport.http() as http,
        http.stream("POST", url, content=body, headers=headers) as response,
    ):
        return response


def _email(channel: EmailChannel, alert: dict[str, str], key: str, transport: Transport) -> None:
    message = EmailMessage()
    message["From"] = transport.sender
    message["To"] = channel.to
    message["Subject"] = EMAIL_SUBJECT
    message["Message-ID"] = f"<{key}@civil-orders>"
    message["Idempotency-Key"] = key
    message.set_content(
        "\n".join(
            [
                f"What happened: {alert['kind']}",
                f"Order reference: {alert['order_reference']}",
                f"Open it: {alert['link']}",
                "",
                f"Alert {alert['alert_id']}. Please acknowledge it in civil-orders.",
            ]
        )
    )
    try:
        with smtplib.SMTP(
            transport.smtp_host, transport.smtp_port, timeout=transport.timeout_seconds
        ) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as failure:
        raise DeliveryFailed(f"SMTP: {failure}") from failure
