"""A stand-in for the MOSOVO teams' own systems on the embedded stack.

It receives signed webhook alerts, refuses unsigned or tampered ones, and lists what each
team received, copies included, so a demo or a test can see exactly what was sent.
"""

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request

from plumbing.settings import Settings
from services.notification.channels import SIGNATURE_HEADER, sign


def create_app(settings: Settings | None = None) -> FastAPI:
    secret = (settings or Settings()).webhook_secret.get_secret_value()  # type: ignore[call-arg]
    received: dict[str, list[dict[str, Any]]] = {}
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
        received.setdefault(team, []).append(
            {
                "idempotency_key": idempotency_key,
                "received_at": datetime.now(UTC).isoformat(),
                "alert": await request.json(),
            }
        )
        return {"status": "accepted"}

    @app.get("/teams/{team}/alerts")
    async def listing(team: str) -> list[dict[str, Any]]:
        return received.get(team, [])

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app
