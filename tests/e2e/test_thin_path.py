"""The walking skeleton across the four service processes, on the real stack."""

from collections import Counter

from rich.console import Console

from civil_orders.drills.demo import refer, run_demo
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client


async def test_the_demo_alerts_the_districts_own_team_once_for_the_order_and_once_for_the_breach(
    client: Client,
) -> None:
    result = await run_demo(client, Console(quiet=True), district="north")

    assert result.team == "mosovo-north"
    assert [r["alert"]["kind"] for r in result.alerts] == ["order allocated", "breach"]
    assert all(r["alert"]["order_reference"] == result.order_reference for r in result.alerts)
    assert all(r["copies"] == 1 for r in result.alerts)
    assert "invalid district.referrals.v1 message" in result.dead_letter_reason
    assert "event_id: Field required" in result.dead_letter_reason


async def test_an_alert_carries_a_reference_and_a_link_but_no_personal_details(
    client: Client,
) -> None:
    result = await run_demo(client, Console(quiet=True), district="east")

    for received in result.alerts:
        assert set(received["alert"]) == {"alert_id", "team", "kind", "order_reference", "link"}


async def test_the_same_district_referral_sent_twice_is_one_referral(client: Client) -> None:
    people = Synthetic(seed=11)
    referral = people.referral("north")
    ref = referral.payload.district_reference

    await client.publish(referral)
    await client.publish(referral)
    await refer(client, people, "north")  # same key, so it arrives after the copy

    recorded = (await client.get("referral", f"/referrals/by-reference/north/{ref}")).json()
    assert recorded["version"] == 1
    assert Counter(h["status"] for h in recorded["history"]) == {"received": 1}
