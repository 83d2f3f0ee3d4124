"""Delivering an alert over a team's channels: a signed webhook POST, retried with backoff."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import httpx

from plumbing.teams import Channel

SIGNATURE_HEADER = "X-Civil-Orders-Signature"


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


def deliver(
    channel: Channel,
    alert: dict[str, str],
    idempotency_key: str,
    secret: str,
    attempts: int,
    backoff_seconds: float,
    client: httpx.Client,
) -> Delivery:
    """POST the alert; the idempotency key lets the receiver drop a copy after a crash."""
    body = json.dumps(alert, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        SIGNATURE_HEADER: sign(secret, body),
    }
    error = "not attempted"
    for attempt in range(1, attempts + 1):
        try:
            response = client.post(str(channel.url), content=body, headers=headers)
            if response.is_success:
                return Delivery(channel.kind, attempt)
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        if attempt < attempts:
            time.sleep(backoff_seconds * 2 ** (attempt - 1))
    return Delivery(channel.kind, attempts, error)
