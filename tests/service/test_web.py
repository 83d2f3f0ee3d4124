"""The web app's service layer: the access log of every look at personal data and its policy,
the configuration the administrator publishes, and the outreach sessions held; and its API
over them: what is recorded of a look or a change, and the log and the sessions a page at a
time."""

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from plumbing.configuration import SCREENING_RULES, TEAM_DIRECTORY, VersionUnchanged
from plumbing.eventstore import EventSourcedService
from plumbing.paging import NEXT_CURSOR
from plumbing.runtime import ServiceDefinition, create_app
from plumbing.settings import PACKAGED_CONFIG, Settings
from schemas.configuration import ScreeningRulesPublishedV1, TeamDirectoryPublishedV1
from schemas.outreach import OutreachSessionRecordedV1
from schemas.personal import ERASED
from schemas.trace import Trace
from services.readmodels.main import definition as readmodels
from services.referral.application import ReferralService
from services.referral.domain import Referral
from services.referral.main import definition as referral_definition
from services.web.api_records import DISPOSAL, RECTIFICATION, RECTIFIED
from services.web.application import WebService
from services.web.auth import issue_token, load_users
from services.web.backend import Backend
from services.web.domain import (
    AccessLogPolicy,
    AccessRecorded,
    AudienceRequired,
    OutreachSession,
    OutreachSessionNotYetHeld,
    ReasonRequired,
)
from services.web.main import definition
from services.web.pages.common import PURPOSE_COOKIE
from tests.service.conftest import Clock
from tests.service.published import (
    kinds,
    log_size,
    messages,
    published,
    recorder,
    stored,
    the_log,
)
from tests.service.test_referral import SUBJECT, declined
from tests.service.upstream import packaged

CASEWORKER = Trace("caseworker:cw-1", uuid4())
ADMINISTRATOR = Trace("administrator:adm-1", uuid4())


def look(web: WebService, case: str = "referral NOR-1") -> bool:
    return web.record_access(
        "cw-1", "caseworker", case, "referral", "triage", CASEWORKER, exported=True
    )


def test_each_look_at_personal_data_is_recorded_with_who_why_and_when_and_kept_private(
    web: WebService, clock: Clock
) -> None:
    before = clock.now()
    assert look(web)

    [event] = [e for e in the_log(web) if isinstance(e, AccessRecorded.Recorded)]
    assert (event.username, event.role, event.case, event.what, event.purpose) == (
        "cw-1", "caseworker", "referral NOR-1", "referral", "triage",
    )  # fmt: skip
    assert event.exported and before <= event.at <= event.timestamp <= clock.now()
    assert event.trace == CASEWORKER
    assert messages(web) == []  # the log is the web app's own: nothing goes on the wire


def test_the_log_is_kept_until_turned_off_with_a_reason_and_each_change_is_recorded(
    web: WebService,
) -> None:
    assert web.logging() and web.get_access_log_policy() == {"logging": True}

    web.configure_access_log(False, "the DPO agreed a pause for the migration", ADMINISTRATOR)
    while_off = look(web), web.get_access_log_policy()
    web.configure_access_log(True, "the migration is over", ADMINISTRATOR)

    assert while_off == (False, {"logging": False})
    assert web.logging() and look(web)
    policy = stored(web, AccessLogPolicy.create_id())
    assert kinds(policy) == ["AccessLogPolicy.Configured", "AccessLogPolicy.Changed"]
    assert [(e.logging, e.trace.actor) for e in policy] == [
        (False, "administrator:adm-1"), (True, "administrator:adm-1"),
    ]  # fmt: skip
    assert len([e for e in the_log(web) if isinstance(e, AccessRecorded.Recorded)]) == 1


def test_a_change_to_the_log_without_a_reason_is_refused_and_changes_nothing(
    web: WebService,
) -> None:
    with pytest.raises(ReasonRequired, match="needs a reason"):
        web.configure_access_log(False, "  ", ADMINISTRATOR)

    assert web.logging() and log_size(web) == 0


def test_a_published_team_directory_goes_on_the_wire_whole_once_per_version(
    web: WebService,
) -> None:
    directory = packaged("teams.yaml")
    web.publish_configuration(TEAM_DIRECTORY, directory, "the first directory", ADMINISTRATOR)
    with pytest.raises(VersionUnchanged, match="already at version 1"):
        web.publish_configuration(TEAM_DIRECTORY, directory, "again", ADMINISTRATOR)
    web.publish_configuration(
        TEAM_DIRECTORY, {**directory, "version": 2}, "west moves to the east team", ADMINISTRATOR
    )

    first, second = published(web, TeamDirectoryPublishedV1)
    assert first.payload.directory.model_dump(mode="json") == directory
    assert (second.payload.directory.version, second.payload.reason) == (
        2, "west moves to the east team",
    )  # fmt: skip
    assert second.actor == "administrator:adm-1"
    assert first.aggregate_id == second.aggregate_id  # one configuration, a version an event


def test_published_screening_rules_go_on_the_wire_for_the_referral_service(
    web: WebService,
) -> None:
    rules = {**packaged("screening-rules.yaml"), "threshold": 3}

    web.publish_configuration(SCREENING_RULES, rules, "one rule in two fires", ADMINISTRATOR)

    [event] = published(web, ScreeningRulesPublishedV1)
    assert event.payload.rules.threshold == 3 and event.payload.reason == "one rule in two fires"
    assert messages(web)[0].topic == "web.configuration.v1"


def test_an_outreach_session_is_recorded_and_published_once_however_often_it_is_entered(
    web: WebService, clock: Clock
) -> None:
    held_on = clock.today() - timedelta(days=2)

    first = web.record_outreach_session(
        "north", held_on, "Response officers", "What an SRO can do", CASEWORKER
    )
    second = web.record_outreach_session(
        " north", held_on, "response  OFFICERS ", "entered again", CASEWORKER
    )

    assert first == second == OutreachSession.create_id("north", held_on, "Response officers")
    [session] = published(web, OutreachSessionRecordedV1)
    assert (session.payload.district, session.payload.held_on, session.payload.audience) == (
        "north", held_on, "Response officers",
    )  # fmt: skip


def test_an_outreach_session_not_yet_held_or_with_nobody_named_is_refused(
    web: WebService, clock: Clock
) -> None:
    with pytest.raises(OutreachSessionNotYetHeld, match="recorded once held"):
        web.record_outreach_session(
            "north", clock.today() + timedelta(days=3), "Detectives", "", CASEWORKER
        )
    with pytest.raises(AudienceRequired):
        web.record_outreach_session("north", clock.today(), " ", "", CASEWORKER)

    assert recorder(web).outbox == [] and log_size(web) == 0


# The API ------------------------------------------------------------------------------

USERS = load_users(PACKAGED_CONFIG / "users.yaml")


def web_app(
    settings: Settings, web: WebService, services: httpx.AsyncBaseTransport, **state: Any
) -> httpx.AsyncClient:
    """The web app, signed in with a stated purpose, the services behind it standing in."""
    names = ("referral", "application", "readmodels", "breach", "notification")
    backend = Backend({name: f"http://{name}" for name in names})
    backend.http = httpx.AsyncClient(transport=services)
    app = create_app(definition, settings)
    app.state.__dict__.update(settings=settings, service=web, backend=backend, users=USERS, **state)
    transport = httpx.ASGITransport(app)
    return httpx.AsyncClient(
        transport=transport, base_url="http://web", cookies={PURPOSE_COOKIE: "audit"}
    )


def as_(settings: Settings, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, USERS[username])}"}


def referral_service(answer: dict[str, Any]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json=answer))


def edge_of(
    service: EventSourcedService, of: ServiceDefinition, **state: Any
) -> httpx.ASGITransport:
    """A service's own HTTP routes in process, on its in-memory store (and what stands in for
    its tables, in `state`)."""
    app = create_app(of, service.settings)
    app.state.__dict__.update(service=service, **state)
    return httpx.ASGITransport(app)


def recorded(web: WebService) -> list[tuple[str, str, str, str]]:
    return [(e.username, e.case, e.what, e.purpose) for e in the_log(web)
            if isinstance(e, AccessRecorded.Recorded)]  # fmt: skip


async def test_a_persons_review_is_read_only_for_a_stated_purpose_and_the_look_is_recorded(
    settings: Settings, web: WebService
) -> None:
    key = str(uuid4())
    review = {"subject_key": key, "subject_nominal_id": "SYN0001", "group": 3}
    purpose = {"purpose": "MoPI review of the record"}

    async with web_app(settings, web, referral_service(review)) as http:
        without = await http.get(f"/api/reviews/{key}", headers=as_(settings, "cw-1"))
        blank = await http.get(
            f"/api/reviews/{key}", params={"purpose": "    "}, headers=as_(settings, "cw-1")
        )
        read = await http.get(f"/api/reviews/{key}", params=purpose, headers=as_(settings, "cw-1"))

    assert without.status_code == 422 and "purpose" in str(without.json()["detail"])
    assert blank.status_code == 422 and "purpose" in str(blank.json()["detail"])
    assert read.status_code == 200 and read.json() == review
    assert recorded(web) == [("cw-1", key, "MoPI review", "MoPI review of the record")]


async def test_an_erasure_a_disposal_on_review_and_a_rectification_are_recorded_while_looks_are_not(
    settings: Settings, web: WebService
) -> None:
    key = str(uuid4())
    web.configure_access_log(False, "the DPO agreed a pause for the migration", ADMINISTRATOR)
    erase = {"nominal_id": "SYN0001", "reason": "MoPI: no longer necessary"}
    dispose = {"reason": "MoPI review: no longer necessary"}
    rectify = {"nominal_id": "SYN0001", "name": "Alex Example", "reason": "misspelt at referral"}
    purpose = {"purpose": "MoPI review of the record"}

    async with web_app(settings, web, referral_service({"subject_key": key})) as http:
        manager, dpo = as_(settings, "mgr-1"), as_(settings, "dpo-1")
        changed = [
            await http.post("/api/subjects/erase", json=erase, headers=manager),
            await http.post(f"/api/reviews/{key}/dispose", json=dispose, headers=manager),
            await http.post("/api/subjects/rectify", json=rectify, headers=dpo),
            await http.get(f"/api/reviews/{key}", params=purpose, headers=manager),
        ]

    assert [response.status_code for response in changed] == [200] * 4
    assert recorded(web) == [
        ("mgr-1", key, DISPOSAL, "MoPI: no longer necessary"),
        ("mgr-1", key, DISPOSAL, "MoPI review: no longer necessary"),
        ("dpo-1", key, RECTIFICATION, RECTIFIED),
    ]  # and not the look: the policy is about looks


async def test_a_rectifications_reason_is_kept_sealed_by_the_services_and_not_in_the_access_log(
    settings: Settings, web: WebService, referral: ReferralService
) -> None:
    """The reason quotes what was recorded wrongly and what is right: once the person is
    erased, nothing of it may be readable in the access log, which outlives the erasure."""
    referral_id = declined(referral)  # closed, so the person may be erased
    wrong = f"surname misspelt: the district typed {SUBJECT.name}, his passport says Grisdale"
    rectify = {"nominal_id": SUBJECT.nominal_id, "name": "Hollis Grisdale", "reason": wrong}
    erase = {"nominal_id": SUBJECT.nominal_id, "reason": "MoPI review: no longer necessary"}

    async with web_app(settings, web, edge_of(referral, referral_definition)) as http:
        rectified = await http.post(
            "/api/subjects/rectify", json=rectify, headers=as_(settings, "dpo-1")
        )
        erased = await http.post("/api/subjects/erase", json=erase, headers=as_(settings, "mgr-1"))

    assert (rectified.status_code, erased.status_code) == (200, 200), rectified.text
    key = rectified.json()["subject_key"]
    assert recorded(web) == [
        ("dpo-1", key, RECTIFICATION, RECTIFIED),
        ("mgr-1", key, DISPOSAL, "MoPI review: no longer necessary"),
    ]
    everything_the_web_app_holds = str([vars(event) for event in the_log(web)])
    assert "Grisedale" not in everything_the_web_app_holds
    assert "Grisdale" not in everything_the_web_app_holds
    [kept] = [e for e in stored(referral, referral_id) if isinstance(e, Referral.SubjectRectified)]
    assert kept.reason == ERASED  # the services' copy, sealed with the destroyed key


NORTH_ORDER = "ORD-2026-NORTH1"


def breach_report(district: str) -> dict[str, str]:
    return {
        "district": district,
        "report_reference": f"{district.upper()[:3]}-BR-2026-00042",
        "order_reference": NORTH_ORDER,
        "occurred_at": "2026-01-02T10:00:00+00:00",
        "location": "Synthetic Park",
        "condition_breached": "Not to have unsupervised contact with any child under 16.",
        "how_detected": "home visit",
        "reporting_officer": "DC 1 (synthetic)",
    }


@pytest.mark.parametrize(("district", "status"), [("north", 201), ("east", 403), ("", 403)])
async def test_an_officer_reports_breaches_under_their_own_teams_districts_references_only(
    settings: Settings, web: WebService, district: str, status: int
) -> None:
    """A report reference names one breach: another district's is not the officer's to take
    (it would take that district's breach)."""
    forwarded: list[dict[str, Any]] = []

    def breach_service(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == f"/orders/{NORTH_ORDER}":
            return httpx.Response(200, json={"reference": NORTH_ORDER, "team": "mosovo-north"})
        if request.method == "POST" and request.url.path == "/breaches":
            forwarded.append(json.loads(request.content))
            return httpx.Response(201, json={"id": "recorded"})
        return httpx.Response(404, json={"detail": "not here"})

    async with web_app(settings, web, httpx.MockTransport(breach_service)) as http:
        officer = as_(settings, "mosovo-north-1")
        response = await http.post("/api/breaches", json=breach_report(district), headers=officer)

    assert response.status_code == status, response.text
    assert [sent["district"] for sent in forwarded] == ([district] if status == 201 else [])
    if status == 403:
        assert "reports breaches under its own districts' references" in response.json()["detail"]


FIRST_DAY = date(2021, 1, 1)
FIRST_MOMENT = datetime(2021, 1, 1, tzinfo=UTC)


class AccessLogTable:
    """Stands in for the access log's table: newest first, from just after a cursor's entry."""

    def __init__(self, entries: int) -> None:
        self.rows = [
            {"event_id": f"{n:04}", "at": FIRST_MOMENT + timedelta(minutes=n // 2),
             "username": "cw-1", "role": "caseworker", "actor": "caseworker:cw-1",
             "case": f"case-{n}", "what": "referral", "purpose": "triage", "exported": False,
             "correlation_id": uuid4()}
            for n in range(entries)
        ]  # fmt: skip

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        case, username, at, event_id, limit = args
        newest = sorted(self.rows, key=at_and_id, reverse=True)
        return [r for r in newest if at is None or at_and_id(r) < (at, event_id)][:limit]


def at_and_id(row: dict[str, Any]) -> tuple[datetime, str]:
    return row["at"], row["event_id"]


async def every_page(
    http: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> list[list[Any]]:
    pages: list[list[Any]] = []
    params: dict[str, str] = {}
    while True:
        response = await http.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if NEXT_CURSOR not in response.headers:
            return pages
        params = {"cursor": response.headers[NEXT_CURSOR]}


async def test_the_access_log_is_read_a_page_at_a_time_to_its_oldest_entry(
    settings: Settings, web: WebService
) -> None:
    table = AccessLogTable(250)

    async with web_app(settings, web, referral_service({}), pool=table) as http:
        auditor = as_(settings, "aud-1")
        too_many = await http.get("/api/access-log", params={"limit": 1001}, headers=auditor)
        pages = await every_page(http, "/api/access-log", auditor)
        page = await http.get("/access-log", headers=auditor)

    assert too_many.status_code == 422
    assert [len(rows) for rows in pages] == [100, 100, 50]
    assert [e["event_id"] for rows in pages for e in rows] == [
        f"{n:04}" for n in range(249, -1, -1)
    ]
    assert page.status_code == 200 and "case-249" in page.text  # the page reads the newest


async def test_the_access_log_page_links_each_page_to_the_older_one_down_to_the_oldest(
    settings: Settings, web: WebService
) -> None:
    table = AccessLogTable(600)  # more than a page ever showed
    shown: list[str] = []

    async with web_app(settings, web, referral_service({}), pool=table) as http:
        address: str | None = "/access-log?limit=250"
        while address is not None:
            page = await http.get(address, headers=as_(settings, "aud-1"))
            assert page.status_code == 200, page.text
            shown += re.findall(r'<a href="/cases/[^"]+">(case-\d+)</a>', page.text)
            older = re.search(r'<a href="([^"]+)" rel="next">', page.text)
            address = html.unescape(older.group(1)) if older else None

    assert shown == [f"case-{n}" for n in range(599, -1, -1)]


class SessionsTable:
    """Stands in for the read models' outreach sessions: newest first, then by district."""

    def __init__(self, sessions: int) -> None:
        self.rows = [
            {"session_id": uuid4(), "district": ("north", "east")[n % 2],
             "held_on": FIRST_DAY + timedelta(days=n // 4), "audience": f"audience {n}",
             "notes": "", "recorded_by": "caseworker:cw-1", "recorded_at": FIRST_MOMENT}
            for n in range(sessions)
        ]  # fmt: skip

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        district, held_on, after_district, session_id, limit = args
        ordered = sorted(self.rows, key=order)
        after = None if held_on is None else order_of(held_on, after_district, session_id)
        return [r for r in ordered if (district in (None, r["district"]))
                and (after is None or order(r) > after)][:limit]  # fmt: skip


def order_of(held_on: date, district: str, session_id: UUID) -> tuple[int, str, UUID]:
    return -held_on.toordinal(), district, session_id


def order(row: dict[str, Any]) -> tuple[int, str, UUID]:
    return order_of(row["held_on"], row["district"], row["session_id"])


async def test_the_outreach_sessions_are_listed_a_page_at_a_time_and_the_page_shows_them_all(
    settings: Settings, web: WebService
) -> None:
    table = SessionsTable(1500)
    sessions = create_app(readmodels, settings)
    sessions.state.pool = table

    async with web_app(settings, web, httpx.ASGITransport(sessions)) as http:
        manager = as_(settings, "mgr-1")
        first = await http.get("/api/outreach", params={"limit": 10}, headers=manager)
        pages = await every_page(http, "/api/outreach", manager)
        page = await http.get("/outreach", headers=manager)

    assert len(first.json()) == 10 and NEXT_CURSOR in first.headers
    assert [len(rows) for rows in pages] == [100] * 15
    listed = [s["session_id"] for rows in pages for s in rows]
    assert listed == [str(r["session_id"]) for r in sorted(table.rows, key=order)]
    assert page.status_code == 200 and page.text.count("<td>audience ") == len(table.rows)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nominal_id": "N1", "purpose": "   "}, ["body", "purpose"]),
        ({"nominal_id": "N1", "purpose": "SAR-1",
          "withheld": [{"section": "alerts", "reason": "    "}]},
         ["body", "withheld", 0, "reason"]),
    ],
)  # fmt: skip
async def test_a_subject_access_export_states_its_purpose_and_each_withholding_s_reason(
    settings: Settings, web: WebService, body: dict[str, Any], field: list[Any]
) -> None:
    async with web_app(settings, web, referral_service({})) as http:
        response = await http.post(
            "/api/subjects/access", json=body, headers=as_(settings, "dpo-1")
        )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == field
    assert recorded(web) == []


async def test_a_change_to_the_access_log_policy_states_why(
    settings: Settings, web: WebService
) -> None:
    async with web_app(settings, web, referral_service({})) as http:
        response = await http.put(
            "/api/admin/access-log",
            json={"logging": False, "reason": "          "},
            headers=as_(settings, "admin-1"),
        )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "reason"]
    assert AccessLogPolicy.create_id() not in web.repository
