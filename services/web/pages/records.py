"""Oversight and audit: a case's history, the evaluation, and the access log."""

import re
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from plumbing.paging import Cursor, ForwardedPage, Page, paged
from services.web import api, api_records
from services.web.access import Admitted
from services.web.access_log import POLICY, EntryKey
from services.web.pages.common import Purpose, next_page, page_router, render

router = page_router()


@router.get("/cases", summary="look up a case")
async def find_case(request: Request, user: Admitted, ref: str = "") -> Response:
    where = f"/cases/{quote(ref.strip(), safe='')}" if ref.strip() else "/"
    return RedirectResponse(where, status.HTTP_303_SEE_OTHER)


@router.get("/cases/{case}", summary="read a case's history")
async def case_history(
    request: Request, case: str, user: Admitted, purpose: Purpose, cursor: Cursor = None
) -> Response:
    page = ForwardedPage(cursor=cursor)
    events = await api_records.case_events(request, case, purpose, user, page)
    return render(request, user, "case.html", title=f"History of {case}", case=case,
                  events=events, next_page=next_page(request, page))  # fmt: skip


def embedded(document: str) -> Markup:
    """The report's body inside this page: its main a section, its headings one level down."""
    found = re.search(r"<body[^>]*>(.*)</body>", document, re.S)
    body = (found.group(1) if found else "").replace("<main>", '<div class="report">')
    body = body.replace("</main>", "</div>")
    for level in (5, 4, 3, 2, 1):
        body = body.replace(f"<h{level}", f"<h{level + 1}").replace(
            f"</h{level}>", f"</h{level + 1}>"
        )
    return Markup(body)  # the read-model service's own rendering, escaped there


def period(request: Request, start: date | None, end: date | None) -> tuple[date, date]:
    today = request.app.state.settings.current_date()
    return start or today - timedelta(days=365), end or today


@router.get("/evaluation", summary="read the evaluation")
async def evaluation(
    request: Request,
    user: Admitted,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    outreach_months: api_records.OutreachMonths = api_records.OUTREACH_MONTHS,
) -> Response:
    start, end = period(request, start, end)
    report, problem = None, None
    if start > end:
        problem = "The ‘from’ date is after the ‘to’ date."
    else:
        document = await api.call(request, user, "readmodels", "GET", "/evaluation.html",
                                  start=start.isoformat(), end=end.isoformat(),
                                  outreach_months=outreach_months)  # fmt: skip
        report = embedded(str(document))
    return render(request, user, "evaluation.html", 422 if problem else 200,
                  title="Evaluation", start=start, end=end, outreach_months=outreach_months,
                  report=report, error=problem)  # fmt: skip


@router.get("/evaluation/report", summary="read the evaluation")
async def evaluation_document(
    request: Request,
    user: Admitted,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    outreach_months: api_records.OutreachMonths = api_records.OUTREACH_MONTHS,
) -> Response:
    """The report on its own, to print or save."""
    start, end = period(request, start, end)
    if start > end:
        raise HTTPException(422, "the ‘from’ date is after the ‘to’ date")
    document = await api.call(request, user, "readmodels", "GET", "/evaluation.html",
                              start=start.isoformat(), end=end.isoformat(),
                              outreach_months=outreach_months)  # fmt: skip
    return HTMLResponse(str(document))


@router.get("/access-log", summary="read the access log")
async def access_log(
    request: Request,
    user: Admitted,
    page: Annotated[Page[EntryKey], paged(EntryKey)],
    case: str = "",
    username: str = "",
) -> Response:
    """The log a page at a time, newest first, each page linking to the one before it."""
    case, username = case.strip(), username.strip()
    rows = await api_records.access_log_entries(request, user, page, case or None, username or None)
    policy = await api_records.access_log_policy(request, user)
    return render(request, user, "access_log.html", title="Access log", rows=rows, case=case,
                  username=username, logging=policy["logging"], policy_prefix=POLICY,
                  next_page=next_page(request, page))  # fmt: skip
