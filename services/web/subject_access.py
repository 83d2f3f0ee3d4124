"""Subject access (DPA 2018 s.45): everything held about one person, opened, gathered from the
services that hold it, with the record of who has looked at it. The export is itself a
disclosure, recorded in the access log. What may be withheld under the law-enforcement
exemptions is the data protection officer's decision, taken on the export, not here."""

from typing import Any, Literal, get_args

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from plumbing.paging import MAX_LIMIT, ForwardedPage
from schemas.common import Stated
from services.web.access import Admitted, PurposeText
from services.web.access_log import get_access_log_of
from services.web.api import call, call_page, record_access
from services.web.auth import User

router = APIRouter(prefix="/api")


Section = Literal["referrals", "disposals_screened", "candidates", "applications", "orders",
                  "order_applications", "order_register", "breaches", "possible_breaches",
                  "alerts", "access_log"]  # fmt: skip


class Withholding(BaseModel):
    section: Section = Field(description="The part of the export withheld.")
    reason: Stated = Field(
        max_length=300,
        description="Why (DPA 2018 s.45(4)): recorded in the access log. Name nobody in it.",
        examples=["would prejudice an ongoing investigation"],
    )


class SubjectAccessRequest(BaseModel):
    nominal_id: str = Field(min_length=1, max_length=200, description="The person's nominal id.")
    purpose: PurposeText = Field(
        description="Why: the request being answered. Recorded in the access log.",
        examples=["subject access request SAR-2026-014"],
    )
    withheld: list[Withholding] = Field(
        default_factory=list,
        max_length=len(get_args(Section)),
        description="Parts restricted under the law-enforcement exemptions, each with why: "
        "left out of the export, and the decision recorded with the export in the access log.",
    )


@router.post("/subjects/access", tags=["personal data"])
async def subject_access(request: Request, body: SubjectAccessRequest, user: Admitted) -> Any:
    """Everything held about a person (`{"nominal_id", "purpose"}`; the nominal in the body so
    that no log line names it), opened: their referrals, the disposals screened with them as
    suspect and the candidates raised, applications, orders and the applications to vary,
    renew or discharge them, breaches, possible breaches (and why each was dismissed) and
    alerts, and every look at any of it in the access log. A person erased reads as
    `[erased]`, with who erased them, when and why. Parts restricted under the law-enforcement
    exemptions (`withheld`, each with why) are left out, and the decision recorded with the
    export. 404 when nothing is held about them."""
    nominal = {"nominal_id": body.nominal_id}
    held = await call(request, user, "referral", "POST", "/subjects/access", nominal)
    applications = [
        await call(request, user, "application", "GET", f"/applications/{application_id}")
        for application_id in held["applications"]
    ]
    granted = [
        order_id
        for application in applications
        for order_id in (application["interim_order_id"], application["order_id"])
        if order_id
    ]
    # and the orders on the register by no application of theirs: an SHPO made on conviction
    on_register = await each(request, user, "/orders", sorted(held["orders"]), include_ended=True)
    orders = [
        await call(request, user, "application", "GET", f"/orders/{order_id}")
        for order_id in dict.fromkeys([*granted, *(row["order_id"] for row in on_register)])
    ]
    about_orders = [row["application_id"] for order in orders for row in order["applications"]]
    order_applications = [
        await call(request, user, "application", "GET", f"/order-applications/{application_id}")
        for application_id in about_orders
    ]
    references = sorted(set(held["orders"]) | {order["reference"] for order in orders})
    raised = await each(request, user, "/possible-breaches", references, service="breach")
    possible_breaches = [
        await call(request, user, "breach", "GET", f"/possible-breaches/{possible_breach_id}")
        for possible_breach_id in (row["possible_breach_id"] for row in raised)
    ]
    export = {
        "subject": {
            "nominal_id": body.nominal_id,
            "subject_key": held["subject_key"],
            "erased": held["erased"],
            "review": held["review"],
        },
        "referrals": held["referrals"],
        "disposals_screened": held["disposals_screened"],
        "candidates": held["candidates"],
        "applications": applications,
        "orders": orders,
        "order_applications": order_applications,
        "order_register": await each(request, user, "/orders", references, include_ended=True),
        "breaches": await each(request, user, "/breaches", references),
        "possible_breaches": possible_breaches,
        "alerts": await each(request, user, "/alerts", references, service="notification"),
    }
    cases = [
        held["subject_key"],
        *references,
        *ids(held["referrals"], applications, orders, order_applications),
    ]
    looks = await get_access_log_of(request.app.state.pool, cases)
    what, purpose = exported_with(body.withheld), body.purpose
    await record_access(request, user, held["subject_key"], what, purpose, exported=True)
    this = {"at": request.app.state.service.now(), "username": user.username,
            "role": user.role.value, "actor": user.actor, "case": held["subject_key"],
            "what": what, "purpose": purpose, "exported": True}  # fmt: skip
    export = {**export, "access_log": [this, *looks]}
    for withholding in body.withheld:
        export[withholding.section] = []
    return {**export, "withheld": [w.model_dump() for w in body.withheld]}


def exported_with(withheld: list[Withholding]) -> str:
    """What the access log says was disclosed: the export, and what was withheld and why."""
    if not withheld:
        return "subject access export"
    return "subject access export; withheld: " + "; ".join(
        f"{w.section} ({w.reason})" for w in withheld
    )


def ids(*records: list[dict[str, Any]]) -> list[str]:
    return [str(record["id"]) for listed in records for record in listed]


async def each(
    request: Request,
    user: User,
    path: str,
    references: list[str],
    service: str = "readmodels",
    **params: Any,
) -> list[Any]:
    """Every row of a service's list about each of the orders, page after page."""
    rows: list[Any] = []
    for reference in references:
        cursor = None
        while True:
            page = ForwardedPage(MAX_LIMIT, cursor)
            rows += await call_page(request, user, page, service, path,
                                    order_reference=reference, **params)  # fmt: skip
            if (cursor := page.next_cursor) is None:
                break
    return rows
