"""The subject of an SRO must notify their name and home address within 3 days: the order
shows the date, a notification recorded by MOSOVO settles it, and one not made alerts the
managing team once and waits as a possible breach for the team to confirm or dismiss."""

from datetime import date, timedelta
from typing import Any

from civil_orders.client import Client, eventually
from civil_orders.demo import alerts_for
from civil_orders.stack import Stack
from civil_orders.synthetic import Synthetic
from tests.e2e.test_order_calendar import order_for
from tests.restarts import restarted
from tests.web import as_

TODAY = date.today()
DUE = TODAY + timedelta(days=3)


async def notification(client: Client, order_id: str) -> dict[str, Any]:
    order = (await client.get("application", f"/orders/{order_id}")).json()
    return dict(order["notification"])


async def test_a_notification_recorded_in_time_settles_the_duty_and_shows_on_the_register(
    client: Client,
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=171))
    officer = await as_(client, "mosovo-north-1")
    path = f"/api/orders/{order_id}/notifications"
    given = {"kind": "initial", "notified_on": TODAY.isoformat(), "how_received": "in person"}

    incomplete = await officer.request("POST", path, json=given | {"name": "Synthetic Name"})
    made = await officer.request(
        "POST", path, json=given | {"name": "Synthetic Name", "address": "1 Synthetic Row"}
    )
    elsewhere = await (await as_(client, "mosovo-east-1")).request("POST", path, json=given)

    assert incomplete.status_code == 409
    assert "gives the home address" in incomplete.json()["detail"]
    assert made.status_code == 204
    assert elsewhere.status_code == 403  # another team's order
    duty = await notification(client, order_id)
    assert duty["due_on"] == DUE.isoformat()
    assert duty["status"] == f"notified on {TODAY.isoformat()}"

    async def registered() -> dict[str, Any] | None:
        rows = (await client.get("readmodels", f"/orders?order_reference={reference}")).json()
        return rows[0] if rows and rows[0]["notified_on"] else None

    row = await eventually(registered, 30, "the notification in the order register")
    assert row["notification_due_on"] == DUE.isoformat() and row["notified_late"] is False
    assert row["notification_overdue"] is False


async def test_a_notification_not_made_in_time_alerts_the_team_once_and_is_a_possible_breach(
    stack: Stack, client: Client
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=172))
    assert (await notification(client, order_id))["status"] == f"due by {DUE.isoformat()}"
    four_days_on = (TODAY + timedelta(days=4)).isoformat()
    officer = await as_(client, "mosovo-north-1")

    with restarted(
        stack, "application", CLOCK_DATE=four_days_on, ORDER_CALENDAR_CHECK_SECONDS="0.5"
    ):
        alerts = await alerts_for(client, "mosovo-north", reference, count=2)
        duty = await notification(client, order_id)

        async def possible() -> list[dict[str, Any]] | None:
            path = f"/api/possible-breaches?order_reference={reference}"
            rows = (await officer.request("GET", path)).json()
            return rows or None

        [raised] = await eventually(possible, 30, "the possible breach")
        confirmed = await officer.request(
            "POST", f"/api/possible-breaches/{raised['possible_breach_id']}/confirm"
        )
        again = await officer.request(
            "POST",
            f"/api/possible-breaches/{raised['possible_breach_id']}/dismiss",
            json={"reason": "changed our minds"},
        )
        alerts = await alerts_for(client, "mosovo-north", reference, count=3)

    kinds = sorted(a["alert"]["kind"] for a in alerts)
    overdue = (
        f"notification overdue: the subject's name and home address were due by "
        f"{DUE.isoformat()}; a possible breach to confirm or dismiss"
    )
    assert kinds == ["breach", overdue, "order allocated"]  # the overdue one once
    assert duty["status"] == f"overdue: was due by {DUE.isoformat()}"
    assert raised["status"] == "to confirm or dismiss" and raised["team"] == "mosovo-north"
    assert confirmed.status_code == 200
    assert confirmed.json()["order_reference"] == reference
    assert again.status_code == 409 and "already confirmed" in again.json()["detail"]
