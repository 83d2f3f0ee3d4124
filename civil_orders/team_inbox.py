"""A stand-in for the MOSOVO teams' own systems on the embedded stack.

It receives signed webhook alerts, refuses unsigned or tampered ones, drops a second copy
of an alert by its idempotency key (counting it), and lists what each team received.
"""

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request

from plumbing.settings import Settings
from services.notification.channels import SIGNATURE_HEADER, sign


def create_app(settings: Settings | None = None) -> FastAPI:
    secret = (settings or Settings()).webhook_secret.get_secret_value()
    received: dict[str, dict[str, dict[str, Any]]] = {}
    app = FastAPI(title="civil-orders team inbox (embedded stand-in for MOSOVO team systems)")

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
        inbox = received.setdefault(team, {})
        if idempotency_key in inbox:
            inbox[idempotency_key]["copies"] += 1
            return {"status": "duplicate dropped"}
        inbox[idempotency_key] = {
            "idempotency_key": idempotency_key,
            "received_at": datetime.now(UTC).isoformat(),
            "copies": 1,
            "alert": await request.json(),
        }
        return {"status": "accepted"}

    @app.get("/teams/{team}/alerts")
    async def listing(team: str) -> list[dict[str, Any]]:
        return list(received.get(team, {}).values())

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app
