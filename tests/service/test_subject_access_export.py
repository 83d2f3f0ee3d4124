"""Subject access through the web app: the export holds the applications about the person's
orders (to vary, renew or discharge them), which hold their personal data, and every recorded
look at those applications; a section the data protection officer may withhold, with why."""

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx

from plumbing.settings import Settings
from schemas.application import Applicant, OrderApplicationKind
from services.application.application import ApplicationService
from services.application.casework import TermAction, TermChange
from services.application.domain import Order, OrderApplication
from services.application.main import definition as application_definition
from services.web.application import WebService
from services.web.domain import AccessRecorded
from tests.service.conftest import Clock
from tests.service.published import aggregates_with, the_log
from tests.service.test_application import (
    COURT,
    LEGAL,
    MOSOVO,
    NO_CONTACT,
    NO_INTERNET,
    SUBJECT,
    at_hearing,
)
from tests.service.test_web import as_, edge_of, referral_service, web_app

GROUNDS = "He now contacts children online through a gaming site (synthetic)."
WHY_THE_TERM = "Online contact with children since the order (synthetic)."
NOTHING_LISTED = httpx.MockTransport(lambda request: httpx.Response(200, json=[]))


class Services(httpx.AsyncBaseTransport):
    """The services behind the web app, each answering at its own host."""

    def __init__(self, **hosts: httpx.AsyncBaseTransport) -> None:
        self.hosts = hosts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.hosts[request.url.host].handle_async_request(request)


class OrderApplicationsTable:
    """Stands in for the application service's list of applications about orders (a table in
    PostgreSQL): a summary row of each, by order."""

    def __init__(self, application: ApplicationService) -> None:
        self.application = application

    async def fetch(self, sql: str, order_id: UUID, *_: Any) -> list[dict[str, Any]]:
        about = [self.application.get_order_application(application_id) for application_id
                 in aggregates_with(self.application, OrderApplication.Opened)]  # fmt: skip
        return [{"application_id": a["id"], "order_id": a["order_id"], "kind": a["kind"],
                 "stage": a["stage"]} for a in about if a["order_id"] == str(order_id)]  # fmt: skip


class AccessLogTable:
    """Stands in for the web app's access log (a table in PostgreSQL): its recorded looks at
    any of the cases, newest first."""

    def __init__(self, web: WebService) -> None:
        self.web = web

    async def fetch(self, sql: str, cases: list[str]) -> list[dict[str, Any]]:
        looks = [e for e in the_log(self.web) if isinstance(e, AccessRecorded.Recorded)]
        return [{"at": e.at, "username": e.username, "role": e.role, "actor": e.trace.actor,
                 "case": e.case, "what": e.what, "purpose": e.purpose, "exported": e.exported}
                for e in reversed(looks) if e.case in cases]  # fmt: skip


def varied(application: ApplicationService, clock: Clock) -> tuple[UUID, UUID]:
    """The person's SRO, and the managing team's application to vary it: their ids."""
    application_id = at_hearing(application, clock)
    ends_on = clock.today() + timedelta(days=3 * 365)
    application.grant_order(application_id, COURT, clock.today(), ends_on, [NO_CONTACT], LEGAL)
    variation = application.open_order_application(
        Order.create_id(application_id), OrderApplicationKind.VARIATION, Applicant.POLICE,
        GROUNDS, None, MOSOVO,
    )  # fmt: skip
    change = TermChange(TermAction.ADD, None, "prohibition", NO_INTERNET.wording, None,
                        WHY_THE_TERM)  # fmt: skip
    application.propose_term_change(variation, change, None, MOSOVO)
    return application_id, variation


async def test_the_export_holds_the_applications_about_the_persons_order_and_the_looks_at_them(
    settings: Settings, web: WebService, application: ApplicationService, clock: Clock
) -> None:
    application_id, variation = varied(application, clock)
    order = application.get_order(Order.create_id(application_id))
    # what the referral service holds about the person (its part is not in question here)
    held = {"subject_key": "00000000-0000-0000-0000-000000000001", "erased": None,
            "review": None, "referrals": [], "disposals_screened": [], "candidates": [],
            "applications": [str(application_id)], "orders": [order["reference"]]}  # fmt: skip
    services = Services(
        referral=referral_service(held),
        application=edge_of(
            application, application_definition, pool=OrderApplicationsTable(application)
        ),
        readmodels=NOTHING_LISTED,
        notification=NOTHING_LISTED,
        breach=NOTHING_LISTED,
    )
    request = {"nominal_id": SUBJECT.nominal_id, "purpose": "subject access SAR-2026-001"}
    withholding = {"section": "order_applications", "reason": "would prejudice the hearing"}

    async with web_app(settings, web, services, pool=AccessLogTable(web)) as http:
        # a manager reads the variation for a stated purpose: a look the access log records
        looked = await http.get(f"/api/order-applications/{variation}",
                                params={"purpose": "checking the variation"},
                                headers=as_(settings, "mgr-1"))  # fmt: skip
        dpo = as_(settings, "dpo-1")
        export = await http.post("/api/subjects/access", json=request, headers=dpo)
        restricted = request | {"withheld": [withholding]}
        withheld = await http.post("/api/subjects/access", json=restricted, headers=dpo)

    assert (looked.status_code, export.status_code, withheld.status_code) == (200, 200, 200)
    [about] = export.json()["order_applications"]
    assert (about["id"], about["kind"], about["grounds"]) == (str(variation), "variation", GROUNDS)
    assert [change["reason"] for change in about["term_changes"]] == [WHY_THE_TERM]
    looks = [(e["username"], e["case"], e["what"], e["purpose"])
             for e in export.json()["access_log"]]  # fmt: skip
    assert ("mgr-1", str(variation), "order application", "checking the variation") in looks
    # withheld under the law-enforcement exemptions: left out, and listed with why
    assert withheld.json()["order_applications"] == []
    assert withheld.json()["withheld"] == [withholding]
    assert GROUNDS not in withheld.text


async def test_the_export_holds_the_possible_breaches_of_the_persons_orders_and_why_dismissed(
    settings: Settings, web: WebService
) -> None:
    possible_id = "00000000-0000-0000-0000-0000000000b1"
    dismissed = {"id": possible_id, "order_reference": "ORD-2026-00000001",
                 "status": "dismissed", "dismissal_reason": "notified elsewhere"}  # fmt: skip

    def breach_service(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/possible-breaches":
            return httpx.Response(200, json=[{"possible_breach_id": possible_id}])
        assert request.url.path == f"/possible-breaches/{possible_id}"
        return httpx.Response(200, json=dismissed)

    held = {"subject_key": "00000000-0000-0000-0000-000000000001", "erased": None,
            "review": None, "referrals": [], "disposals_screened": [], "candidates": [],
            "applications": [], "orders": ["ORD-2026-00000001"]}  # fmt: skip
    services = Services(
        referral=referral_service(held),
        readmodels=NOTHING_LISTED,
        notification=NOTHING_LISTED,
        breach=httpx.MockTransport(breach_service),
    )
    request = {"nominal_id": SUBJECT.nominal_id, "purpose": "subject access SAR-2026-002"}

    async with web_app(settings, web, services, pool=AccessLogTable(web)) as http:
        dpo = as_(settings, "dpo-1")
        export = await http.post("/api/subjects/access", json=request, headers=dpo)

    assert export.status_code == 200, export.text
    assert export.json()["possible_breaches"] == [dismissed]
