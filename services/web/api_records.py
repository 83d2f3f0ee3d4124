"""The API's reading side beyond single cases: caseload, case history, the access log, the
evaluation; signing in with the local issuer; disposing of a person's personal data; the
administrator's configuration."""

from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Body, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints

from plumbing.configuration import (
    SCREENING_RULES,
    TEAM_DIRECTORY,
    screening_rules,
    team_directory,
)
from plumbing.eventstore import hop
from plumbing.paging import Page, paged
from schemas.common import LINE, Stated
from schemas.configuration import ScreeningRules, TeamDirectory
from schemas.dates import Day
from schemas.trace import Trace
from services.web.access import Admitted
from services.web.access_log import EntryKey, entry_key, get_access_log
from services.web.api import Command, Paged, Purpose, call, call_page, record_access
from services.web.auth import User, issue_token

router = APIRouter(prefix="/api")

# why a record or configuration changes, recorded with the change (and sent with it)
ChangeReason = Annotated[Stated, StringConstraints(min_length=5, max_length=LINE)]


class SignIn(BaseModel):
    username: str = Field(min_length=1, examples=["cw-1"])


@router.post("/token", tags=["sign-in"])
async def local_token(request: Request, body: SignIn) -> dict[str, str]:
    """The local issuer (embedded stack and tests only): a bearer token for one of the
    synthetic staff. Where the force's identity provider issues tokens this is switched off."""
    settings = request.app.state.settings
    if not settings.local_sign_in:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "sign in with the force's identity provider")
    user = request.app.state.users.get(body.username)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"no such user {body.username!r}")
    return {"access_token": issue_token(settings, user), "token_type": "bearer"}


@router.get("/me", tags=["sign-in"])
async def me(user: Admitted) -> dict[str, Any]:
    return {**user.claims(), "actor": user.actor}


@router.get("/caseload", tags=["caseload"])
async def caseload(
    request: Request,
    user: Admitted,
    page: Paged,
    caseworker: str | None = None,
    district: str | None = None,
) -> Any:
    """Open referrals and applications, oldest first, with their state and age; a page at a
    time."""
    return await call_page(request, user, page, "readmodels", "/caseload",
                           caseworker=caseworker, district=district)  # fmt: skip


@router.get("/caseload/summary", tags=["caseload"])
async def caseload_summary(request: Request, user: Admitted) -> Any:
    return await call(request, user, "readmodels", "GET", "/caseload/summary")


@router.get("/cases/{case}/events", tags=["audit"])
async def case_events(
    request: Request, case: str, purpose: Purpose, user: Admitted, page: Paged
) -> Any:
    """Every published event of the case, oldest first (an auditor's or manager's view); a
    page at a time, each page a look recorded in the access log."""
    path = f"/cases/{quote(case, safe='')}/events"  # a segment, whatever it holds
    events = await call_page(request, user, page, "readmodels", path)
    await record_access(request, user, case, "case history", purpose)
    return events


@router.get("/access-log", tags=["audit"])
async def access_log_entries(
    request: Request,
    user: Admitted,
    page: Annotated[Page[EntryKey], paged(EntryKey)],
    case: str | None = None,
    username: str | None = None,
) -> list[dict[str, Any]]:
    """Who looked at which case's personal data, when and why; and every change to whether
    looks are logged; newest first, a page at a time. Auditors only; nobody can change it."""
    rows = await get_access_log(request.app.state.pool, case, username, page.after, page.fetch)
    return page.of(rows, entry_key)


OUTREACH_MONTHS = 3  # as `civil-orders report --outreach-months` and the read models default
OutreachMonths = Annotated[
    int, Query(ge=1, le=24, description="Months before and after each outreach session.")
]


@router.get("/evaluation", tags=["evaluation"])
async def evaluation(
    request: Request,
    user: Admitted,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    outreach_months: OutreachMonths = OUTREACH_MONTHS,
) -> Any:
    """The practice's figures for a period: referrals, conversion, orders, breaches; each
    outreach session beside the `outreach_months` months before and after it."""
    if start > end:
        error = {"type": "value_error", "loc": ["query", "to"], "msg": "'from' is after 'to'"}
        raise RequestValidationError([error])  # a 422 shaped as the schema documents it
    return await call(request, user, "readmodels", "GET", "/evaluation",
                      start=start.isoformat(), end=end.isoformat(),
                      outreach_months=outreach_months)  # fmt: skip


@router.post("/subjects/erase", tags=["personal data"])
async def erase_subject(request: Request, body: Command, user: Admitted) -> Any:
    """Dispose of a person's personal data (`{"nominal_id", "reason"}`): the referral
    service records who decided it and why, then destroys the key it is sealed with, so it
    reads as erased everywhere. Refused while an order against them is in force. The
    disposal is recorded in the access log too, with who decided it and why."""
    erased = await call(request, user, "referral", "POST", "/subjects/erase", body)
    await record_change(request, user, DISPOSAL, erased, str(body.get("reason", "")))
    return erased


async def record_change(request: Request, user: User, what: str, changed: Any, why: str) -> None:
    """The access log's record of a disposal or rectification (s.62 lists erasure and
    alteration): the person's subject key, who did it, and why; whatever the policy on looks,
    which are consultations. The log is not sealed and outlives an erasure: `why` names
    nobody."""
    await record_access(request, user, changed["subject_key"], what, why, change=True)


DISPOSAL = "disposal of personal data"
RECTIFICATION = "rectification of personal data"
# a rectification's reason quotes what was wrong and what is right: personal data, kept only
# where it is sealed with the person's key
RECTIFIED = "the reason is kept with the correction, sealed with the person's key"


@router.post("/subjects/rectify", tags=["personal data"])
async def rectify_subject(request: Request, body: Command, user: Admitted) -> Any:
    """Correct how a person was recorded (`{"nominal_id", "name" and/or "date_of_birth",
    "reason"}`, DPA 2018 s.46): the correction supersedes the name or date of birth on every
    referral that names them and the applications made from them; the history keeps both, and
    why. Recorded in the access log with who did it, but not why: that is the person's data."""
    rectified = await call(request, user, "referral", "POST", "/subjects/rectify", body)
    await record_change(request, user, RECTIFICATION, rectified, RECTIFIED)
    return rectified


@router.get("/reviews", tags=["MoPI review"])
async def review_queue(
    request: Request,
    user: Admitted,
    page: Paged,
    state: Literal["due", "scheduled"] = "due",
) -> Any:
    """People whose record is due for MoPI review, longest due first, each with their review
    group and the key (`subject_key`) to decide on; a page at a time."""
    return await call_page(request, user, page, "referral", "/reviews", state=state)


@router.get("/reviews/{subject_key}", tags=["MoPI review"])
async def review(request: Request, subject_key: UUID, purpose: Purpose, user: Admitted) -> Any:
    """A person's review: group, date, whether due, their open casework and live orders; a
    look recorded in the access log."""
    found = await call(request, user, "referral", "GET", f"/reviews/{subject_key}")
    await record_access(request, user, str(subject_key), "MoPI review", purpose)
    return found


@router.post("/reviews/{subject_key}/{decision}", tags=["MoPI review"])
async def decide_review(
    request: Request,
    subject_key: UUID,
    decision: Literal["retain", "dispose"],
    body: Command,
    user: Admitted,
) -> Any:
    """Retain the record (`{"reason", "next_review_on"}`) or dispose of the person's personal
    data (`{"reason"}`: recorded, then their key destroyed). Only a record due for review;
    disposal is refused (409) while an order against them is in force."""
    path = f"/reviews/{subject_key}/{decision}"
    decided = await call(request, user, "referral", "POST", path, body)
    if decision == "dispose":
        await record_change(request, user, DISPOSAL, decided, str(body.get("reason", "")))
    return decided


class AccessLogChange(BaseModel):
    logging: bool = Field(description="Whether looks at personal data are recorded.")
    reason: ChangeReason = Field(description="Why: recorded with the change.")


@router.put("/admin/access-log", status_code=204, tags=["administration"])
async def configure_access_log(
    request: Request, body: Annotated[AccessLogChange, Body()], user: Admitted
) -> None:
    """Change whether looks are logged: itself recorded, with who and why, for auditors."""
    trace = Trace(user.actor, request.state.correlation_id)
    await hop(request.app.state.service.configure_access_log, body.logging, body.reason, trace)


@router.get("/admin/access-log", tags=["administration"])
async def access_log_policy(request: Request, user: Admitted) -> dict[str, Any]:
    return await hop(request.app.state.service.get_access_log_policy)


@router.get("/admin/teams", tags=["administration"])
async def team_directory_in_force(request: Request, user: Admitted) -> Any:
    """The districts, their MOSOVO teams and the teams' alert channels, as now in force."""
    directory = await hop(team_directory, request.app.state.service)
    return directory.model_dump(mode="json")


class TeamDirectoryChange(BaseModel):
    directory: TeamDirectory
    reason: ChangeReason = Field(description="Why: recorded, and sent with the change.")


@router.put("/admin/teams", status_code=204, tags=["administration"])
async def publish_team_directory(
    request: Request, body: TeamDirectoryChange, user: Admitted
) -> None:
    """Publish a new version of the team directory (its `version` must change). The
    application and notification services adopt it from the event: new orders are allocated,
    and alerts sent, by it."""
    document = body.directory.model_dump(mode="json")
    await publish(request, user, TEAM_DIRECTORY, document, body.reason)


@router.get("/admin/screening-rules", tags=["administration"])
async def screening_rules_in_force(request: Request, user: Admitted) -> Any:
    """The versioned rules that screen non-positive disposals, as now in force."""
    rules = await hop(screening_rules, request.app.state.service)
    return rules.model_dump(mode="json")


class ScreeningRulesChange(BaseModel):
    rules: ScreeningRules
    reason: ChangeReason = Field(description="Why: recorded, and sent with the change.")


@router.put("/admin/screening-rules", status_code=204, tags=["administration"])
async def publish_screening_rules(
    request: Request, body: ScreeningRulesChange, user: Admitted
) -> None:
    """Publish a new version of the screening rules (its `version` must change); the referral
    service screens every disposal after it by them."""
    document = body.rules.model_dump(mode="json")
    await publish(request, user, SCREENING_RULES, document, body.reason)


async def publish(
    request: Request, user: User, kind: str, document: dict[str, Any], reason: str
) -> None:
    trace = Trace(user.actor, request.state.correlation_id)
    await hop(request.app.state.service.publish_configuration, kind, document, reason, trace)
