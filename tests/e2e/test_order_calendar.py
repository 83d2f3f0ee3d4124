"""Orders change and end: a variation, a renewal review coming due, an expiry, each reaching
the team that manages the order, and the breach service's view of the order."""

from datetime import timedelta

from civil_orders.drills.demo import (
    accept,
    alerts_for,
    change_order,
    grant,
    open_order_application,
    order_application_to_court,
    refer,
    team_managing,
)
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from schemas import dates
from services.application.domain_dates import years_after
from tests.restarts import restarted


async def order_for(client: Client, people: Synthetic, **dates: object) -> tuple[str, str]:
    """A granted order in the north; returns (order id, reference)."""
    application = await accept(client, (await refer(client, people, "north"))["id"])
    reference = await grant(client, application["id"], **dates)  # type: ignore[arg-type]
    opened = (await client.get("application", f"/applications/{application['id']}")).json()
    return opened["order_id"], reference


async def test_an_order_ending_within_the_review_period_raises_its_renewal_review(
    client: Client,
) -> None:
    today = dates.today()
    _, reference = await order_for(
        client,
        Synthetic(seed=61),
        made_on=today - timedelta(days=712),  # two years and a day before it ends
        ends_on=today + timedelta(days=20),
    )

    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    kinds = sorted(a["alert"]["kind"] for a in alerts)
    assert kinds == [
        "order allocated",
        f"renewal review due: the order ends on {(today + timedelta(days=20)).isoformat()}",
    ]


async def test_an_order_reaching_its_end_date_expires_and_breaches_after_it_are_refused(
    client: Client,
) -> None:
    today = dates.today()
    people = Synthetic(seed=62)
    order_id, reference = await order_for(
        client, people, made_on=today - timedelta(days=731), ends_on=today
    )

    alerts = await alerts_for(client, "mosovo-north", reference, count=3)
    ended = f"order ended on {today.isoformat()}: it reached its end date"
    assert ended in [a["alert"]["kind"] for a in alerts]
    order = (await client.get("application", f"/orders/{order_id}")).json()
    assert order["expired"] is True


async def test_a_varied_order_alerts_its_team_and_the_breach_service_holds_the_new_terms(
    client: Client,
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=63))
    await team_managing(client, reference)
    devices = {"action": "reword", "term_number": 1, "kind": "requirement",
               "wording": "To disclose every internet-capable device.",
               "reason": "Synthetic: he has hidden a phone from officers."}  # fmt: skip

    await change_order(client, order_id, "variation", [("POST", "term-changes", devices)])

    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    assert "order varied: its terms have changed" in [a["alert"]["kind"] for a in alerts]

    async def breach_service_has_new_terms() -> dict[str, object] | None:
        order = (await client.get("breach", f"/orders/{reference}")).json()
        return order if order["terms"][0]["kind"] == "requirement" else None

    order = await eventually(breach_service_has_new_terms, 30, "the varied terms")
    assert order["ends_on"] is not None


async def test_a_renewed_order_alerts_its_team_and_a_premature_discharge_is_refused(
    client: Client,
) -> None:
    order_id, reference = await order_for(client, Synthetic(seed=64))
    today = dates.today()
    new_end = (today + timedelta(days=3 * 365)).isoformat()
    case = {"why_risk_remains": "Synthetic: two breaches this year.", "ends_on": new_end}

    await change_order(client, order_id, "renewal", [("PUT", "renewal-case", case)])
    discharge = await open_order_application(
        client, order_id, "discharge", "Synthetic: the defendant says he has changed.",
        applicant="defendant", received_on=today.isoformat(),
    )  # fmt: skip
    opposed = {"consents": False, "reasons": "Synthetic: he still seeks contact."}
    await order_application_to_court(
        client, discharge, [("PUT", "police-response", opposed)], today
    )
    refused = await client.http.post(
        f"{client.urls['application']}/order-applications/{discharge}/grant",
        json={"decided_on": today.isoformat()},
        headers={"X-Actor": "legal-services:ls-1"},
    )

    alerts = await alerts_for(client, "mosovo-north", reference, count=2)
    assert f"order renewed: it now runs until {new_end}" in [a["alert"]["kind"] for a in alerts]
    assert refused.status_code == 409
    assert "without police consent" in refused.json()["detail"]


async def test_an_order_recorded_after_its_end_date_expires_at_once(
    stack: Stack, client: Client
) -> None:
    today = dates.today()
    ended_on = today - timedelta(days=365)
    # the calendar looks once as the service starts, then not for an hour
    with restarted(stack, "application", ORDER_CALENDAR_CHECK_SECONDS="3600"):
        _, reference = await order_for(
            client, Synthetic(seed=63), made_on=years_after(ended_on, -2), ends_on=ended_on
        )

        alerts = await alerts_for(client, "mosovo-north", reference, count=3)

    assert f"order ended on {ended_on.isoformat()}: it reached its end date" in [
        a["alert"]["kind"] for a in alerts
    ]


async def test_an_order_reads_as_over_on_its_end_date_before_the_calendar_says_so(
    stack: Stack, client: Client
) -> None:
    today = dates.today()
    ends_on = today + timedelta(days=10)
    made_on = years_after(ends_on, -2)  # an SRO lasts two years at least
    _, reference = await order_for(client, Synthetic(seed=64), made_on=made_on, ends_on=ends_on)
    register = f"/orders?order_reference={reference}"

    async def registered() -> list[dict[str, object]] | None:
        return (await client.get("readmodels", register)).json() or None

    [live] = await eventually(registered, 30, f"{reference} in the order register")
    # ten days on, by the read models' clock; the application service's has not moved, so no
    # expiry is recorded: the register reads the order as over all the same
    with restarted(stack, "readmodels", CLOCK_DATE=ends_on.isoformat()):
        in_force = (await client.get("readmodels", register)).json()
        [ended] = (await client.get("readmodels", f"{register}&include_ended=true")).json()

    assert live["in_force"] is True
    assert in_force == []
    assert (ended["in_force"], ended["ended_on"], ended["end_reason"]) == (
        False,
        ends_on.isoformat(),
        "it reached its end date",
    )
