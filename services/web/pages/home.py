"""The home page: what is waiting for the signed-in person."""

from typing import Any

from fastapi import Request, Response

from services.web import api, api_records
from services.web.auth import SignedIn
from services.web.pages.common import page_router, render

LEGAL_STAGES = ("with legal services", "application made to court", "hearing listed")

router = page_router()


@router.get("/", summary="see the home page")
async def home(request: Request, user: SignedIn) -> Response:
    context: dict[str, Any] = {}
    if user.role is api.LEGAL:
        cases = await api_records.caseload(request, user, None, None)
        context["applications"] = [c for c in cases if c["state"] in LEGAL_STAGES]
    elif user.role is api.CASEWORKER:
        context["mine"] = await api_records.caseload(request, user, user.actor, None)
    elif user.role is api.REFERRER:
        context["referrals"] = await api.referral_queue(request, user, None, None)
    oversight = user.role in api.OVERSIGHT
    return render(request, user, "home.html", title="Home", oversight=oversight, **context)
