"""The web API: each role does its own work and is refused what it may not see or do, and
every look at a case's personal data is in the access log with its purpose."""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from civil_orders.drills.demo import accept, grant, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from plumbing.settings import Settings
from tests.web import as_

PURPOSE = {"purpose": "testing the access log"}


async def test_a_referrer_refers_for_their_own_district_only(client: Client) -> None:
    referrer = await as_(client, "ref-north")
    people = Synthetic(seed=701)
    own = people.referral("north").payload.model_dump(mode="json")
    other = people.referral("east").payload.model_dump(mode="json")

    made = await referrer.request("POST", "/api/referrals", json=own)
    refused = await referrer.request("POST", "/api/referrals", json=other)
    queue = await referrer.request("GET", "/api/referrals")

    assert made.status_code == 201
    assert refused.status_code == 403
    assert "north" in refused.json()["detail"]
    path = f"/referrals/by-reference/east/{other['district_reference']}"
    assert (await client.get("referral", path)).status_code == 404  # nothing stored
    assert {r["district"] for r in queue.json()} <= {"north"}
    assert (await referrer.request("GET", "/api/caseload")).status_code == 403


async def test_reading_a_case_needs_a_purpose_and_is_logged_for_auditors(client: Client) -> None:
    referral = await refer(client, Synthetic(seed=702), "north")
    caseworker, auditor = await as_(client, "cw-1"), await as_(client, "aud-1")

    without = await caseworker.request("GET", f"/api/referrals/{referral['id']}")
    read = await caseworker.request("GET", f"/api/referrals/{referral['id']}", params=PURPOSE)

    assert without.status_code == 422
    assert "purpose" in str(without.json()["detail"])
    assert read.status_code == 200 and read.json()["subject_nominal_id"]

    async def logged() -> list[dict[str, Any]] | None:
        rows = await auditor.request("GET", "/api/access-log", params={"case": referral["id"]})
        entries = [e for e in rows.json() if e["case"] == referral["id"]]
        return entries or None

    [entry] = await eventually(logged, 20, "the look in the access log")
    assert (entry["username"], entry["role"], entry["what"]) == ("cw-1", "caseworker", "referral")
    assert entry["purpose"] == PURPOSE["purpose"]
    assert (await caseworker.request("GET", "/api/access-log")).status_code == 403


async def test_a_mosovo_officer_sees_and_acknowledges_only_their_own_teams_work(
    client: Client,
) -> None:
    application = await accept(client, (await refer(client, Synthetic(seed=703), "north"))["id"])
    reference = await grant(client, application["id"])
    await team_managing(client, reference)
    north, east = await as_(client, "mosovo-north-1"), await as_(client, "mosovo-east-1")

    async def north_alert() -> dict[str, Any] | None:
        """The alert once it reached the team (the inbox lists it from its request on, and
        one not yet delivered cannot be acknowledged)."""
        rows = (await north.request("GET", "/api/alerts")).json()
        mine = (a for a in rows if a["order_reference"] == reference)
        return next((a for a in mine if a["status"] == "delivered"), None)

    alert = await eventually(north_alert, 30, "the allocation alert delivered to North")
    east_sees = (await east.request("GET", "/api/alerts")).json()
    east_orders = (await east.request("GET", "/api/orders")).json()
    east_ack = await east.request("POST", f"/api/alerts/{alert['alert_id']}/acknowledge")
    north_ack = await north.request("POST", f"/api/alerts/{alert['alert_id']}/acknowledge")

    assert all(a["team"] == "mosovo-east" for a in east_sees)
    assert reference not in {o["order_reference"] for o in east_orders}
    assert east_ack.status_code == 403
    assert north_ack.status_code == 204
    assert (await north.request("GET", "/api/caseload")).status_code == 403


@pytest.mark.parametrize(
    ("username", "method", "path", "body"),
    [
        ("aud-1", "POST", "/api/referrals", {"district": "north"}),
        ("aud-1", "POST", "/api/alerts/00000000-0000-0000-0000-000000000001/acknowledge", None),
        ("mgr-1", "POST", "/api/referrals/00000000-0000-0000-0000-000000000001/review", None),
        ("cw-1", "POST", "/api/applications/00000000-0000-0000-0000-000000000001/court/grant",
         {"court": "x"}),
        ("ls-1", "POST", "/api/referrals/00000000-0000-0000-0000-000000000001/review", None),
        ("admin-1", "GET", "/api/caseload", None),
        ("cw-1", "GET", "/api/admin/teams", None),
        ("cw-1", "PUT", "/api/admin/access-log", {"logging": False, "reason": "why not"}),
        ("ref-north", "GET", "/api/orders", None),
        ("mosovo-north-1", "GET", "/api/evaluation?from=2020-01-01&to=2020-12-31", None),
    ],
)  # fmt: skip
async def test_each_role_is_refused_what_it_may_not_do(
    client: Client, username: str, method: str, path: str, body: Any
) -> None:
    person = await as_(client, username)
    response = await person.request(method, path, json=body)
    assert response.status_code == 403, response.text
    assert "may not" in response.json()["detail"]


async def test_requests_without_a_valid_token_are_refused(client: Client) -> None:
    url = f"{client.urls['web']}/api/caseload"
    settings = Settings(database_url="postgresql://x/y", kafka_bootstrap_servers="x:1")
    claims = {"sub": "cw-1", "role": "caseworker", "aud": settings.auth_audience}
    key = settings.auth_key.get_secret_value()
    expired = jwt.encode({**claims, "iss": settings.auth_issuer,
                          "exp": datetime.now(UTC) - timedelta(minutes=1)}, key)  # fmt: skip
    foreign = jwt.encode({**claims, "iss": "someone-else",
                          "exp": datetime.now(UTC) + timedelta(minutes=5)}, key)  # fmt: skip
    forged = jwt.encode({**claims, "iss": settings.auth_issuer,
                         "exp": datetime.now(UTC) + timedelta(minutes=5)}, "x" * 40)  # fmt: skip

    for token, why in (("", "not signed in"), (expired, "expired"), (foreign, "issuer"),
                       (forged, "signature")):  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.http.get(url, headers=headers)
        assert response.status_code == 401
        assert why in response.json()["detail"].lower()


async def test_turning_the_access_log_off_is_itself_recorded(client: Client) -> None:
    admin, auditor = await as_(client, "admin-1"), await as_(client, "aud-1")
    off = await admin.request("PUT", "/api/admin/access-log",
                              json={"logging": False, "reason": "synthetic drill"})  # fmt: skip
    on = await admin.request("PUT", "/api/admin/access-log",
                             json={"logging": True, "reason": "drill over"})  # fmt: skip
    assert (off.status_code, on.status_code) == (204, 204)

    async def recorded() -> list[dict[str, Any]] | None:
        """This test's two changes, newest first (other tests change the policy too)."""
        rows = (await auditor.request("GET", "/api/access-log")).json()
        changes = [r for r in rows if r["what"].startswith("access log policy")
                   and r["purpose"] in ("synthetic drill", "drill over")]  # fmt: skip
        return changes if len(changes) >= 2 else None

    changes = await eventually(recorded, 20, "both policy changes in the access log")
    assert [c["purpose"] for c in changes[:2]] == ["drill over", "synthetic drill"]
    assert changes[0]["actor"] == "administrator:admin-1"
