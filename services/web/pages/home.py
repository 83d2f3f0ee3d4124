"""The home page: what is waiting for the signed-in person."""

from typing import Any

from fastapi import Request, Response

from plumbing.paging import ForwardedPage
from services.web import api, api_records
from services.web.access import CASEWORKER, LEGAL, REFERRER, Admitted
from services.web.pages.common import page_router, render

LEGAL_STAGES = ("with legal services", "application made to court", "hearing listed")

router = page_router()


@router.get("/", summary="see the home page")
async def home(request: Request, user: Admitted) -> Response:
    context: dict[str, Any] = {}
    first = ForwardedPage()
    if user.role is LEGAL:  # the caseload in the stages legal services work
        context["applications"] = await api.call_page(
            request, user, first, "readmodels", "/caseload", state=list(LEGAL_STAGES)
        )
    elif user.role is CASEWORKER:
        context["mine"] = await api_records.caseload(request, user, first, user.actor)
    elif user.role is REFERRER:
        context["referrals"] = await api.referral_queue(request, user, first)
    return render(request, user, "home.html", title="Home", **context)
