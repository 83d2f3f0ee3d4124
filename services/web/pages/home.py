"""The home page: what is waiting for the signed-in person."""

from typing import Any

from fastapi import Request, Response

from plumbing.paging import ForwardedPage
from services.web import api, api_records
from services.web.auth import SignedIn
from services.web.pages.common import page_router, render

LEGAL_STAGES = ("with legal services", "application made to court", "hearing listed")

router = page_router()


@router.get("/", summary="see the home page")
async def home(request: Request, user: SignedIn) -> Response:
    context: dict[str, Any] = {}
    first = ForwardedPage()
    if user.role is api.LEGAL:  # the caseload in the stages legal services work
        context["applications"] = await api.call_page(
            request, user, first, "readmodels", "/caseload", state=list(LEGAL_STAGES)
        )
    elif user.role is api.CASEWORKER:
        context["mine"] = await api_records.caseload(request, user, first, user.actor)
    elif user.role is api.REFERRER:
        context["referrals"] = await api.referral_queue(request, user, first)
    oversight = user.role in api.OVERSIGHT
    return render(request, user, "home.html", title="Home", oversight=oversight, **context)
