"""Killing a service mid-stream and starting it again loses nothing and duplicates nothing."""

import asyncio

from civil_orders.drills.demo import (
    accept,
    alerts_for,
    awaiting_grant,
    court_grants,
    dead_lettered_after,
    grant,
    inbox_entry,
    refer,
    team_managing,
)
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack
from schemas import dates

ORDERS = 4


async def granted_orders(client: Client, people: Synthetic, count: int) -> list[str]:
    referrals = [await refer(client, people, "north") for _ in range(count)]
    applications = [await accept(client, r["id"]) for r in referrals]
    return [await grant(client, a["id"]) for a in applications]


async def test_orders_granted_while_the_notifier_is_down_are_each_alerted_once_after_restart(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=21)
    stack.kill("notification")
    try:
        references = await granted_orders(client, people, ORDERS)
    finally:
        stack.start("notification")

    for reference in references:
        [received] = await alerts_for(client, "mosovo-north", reference, count=1)
        assert received["copies"] == 1


async def test_killing_the_notifier_while_it_delivers_sends_each_alert_once(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=22)
    references = await granted_orders(client, people, ORDERS)
    for reference in references:  # a breach each, once the breach service knows the order
        assert await team_managing(client, reference) == "mosovo-north"
        await client.publish(people.breach("north", reference))
    await asyncio.sleep(0.2)  # then crash while they flow
    stack.kill("notification")
    stack.start("notification")

    for reference in references:
        received = await alerts_for(client, "mosovo-north", reference, count=2)
        assert sorted(r["alert"]["kind"] for r in received) == ["breach", "order allocated"]
        # a crash between POST and recording it may resend; the idempotency key catches it
        assert len({r["idempotency_key"] for r in received}) == 2


async def test_an_alert_its_team_held_up_when_the_notifier_died_is_sent_after_restart(
    stack: Stack, client: Client
) -> None:
    """Each team's alerts go out in a lane of their own, so one raised later, for a team that
    answered, is recorded first: the dispatcher's position passes the one held up. It is found
    unsettled and sent when the dispatcher starts again."""
    people = Synthetic(seed=29)
    east, north = [await awaiting_grant(client, people, d) for d in ("east", "north")]
    inbox = f"{client.urls['team-inbox']}/teams/mosovo-east/fail-next"
    (await client.http.post(inbox, json={"count": 100, "hang_seconds": 30})).raise_for_status()

    east_order = await court_grants(client, east, dates.today())
    await inbox_entry(client, "mosovo-east", east_order, status="requested")
    north_order = await court_grants(client, north, dates.today())
    await alerts_for(client, "mosovo-north", north_order, count=1)
    stack.kill("notification")  # while east's alert is still being tried
    (await client.http.post(inbox, json={"count": 0})).raise_for_status()
    stack.start("notification")

    [received] = await alerts_for(client, "mosovo-east", east_order, count=1)
    assert received["copies"] == 1
    entry = await inbox_entry(client, "mosovo-east", east_order, status="delivered")
    assert entry["attempts"] == 1


async def test_referrals_accepted_while_the_application_service_is_down_each_open_one_application(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=23)
    referrals = [await refer(client, people, "north") for _ in range(ORDERS)]
    stack.kill("application")
    try:
        for referral in referrals:
            await client.command(
                "referral", f"/referrals/{referral['id']}/accept", "caseworker:cw-2"
            )
    finally:
        stack.start("application")

    for referral in referrals:
        application = await client.found(
            "application", f"/applications/by-referral/{referral['id']}"
        )
        assert application["stage"] == "drafting"


async def test_events_stored_just_before_the_referral_service_dies_are_still_published(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=24)
    referrals = [await refer(client, people, "north") for _ in range(ORDERS)]
    for referral in referrals:
        await client.command("referral", f"/referrals/{referral['id']}/accept", "caseworker:cw-2")
    stack.kill("referral")  # the relay may not have published the acceptances yet
    stack.start("referral")

    for referral in referrals:
        await client.found("application", f"/applications/by-referral/{referral['id']}")


async def test_a_breach_against_an_unknown_order_is_dead_lettered_with_its_reason(
    client: Client,
) -> None:
    people = Synthetic(seed=25)
    before = {(d.service, d.id) for d in await client.dead_letters()}
    await client.publish(people.breach("north", "ORD-1999-NOSUCH00"))

    reason = await dead_lettered_after(client, before)
    assert reason == (
        "DistrictBreachReport rejected: no order with reference 'ORD-1999-NOSUCH00' "
        "is known to the breach service"
    )


async def test_an_order_is_allocated_to_the_team_for_its_district(client: Client) -> None:
    people = Synthetic(seed=26)
    referral = await refer(client, people, "west")
    reference = await grant(client, (await accept(client, referral["id"]))["id"])

    assert await team_managing(client, reference) == "mosovo-east"


async def test_breaches_reported_while_the_breach_service_is_down_are_each_recorded_once(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=27)
    references = await granted_orders(client, people, 2)
    for reference in references:
        await team_managing(client, reference)
    reports = [people.breach("north", reference) for reference in references]
    stack.kill("breach")
    try:
        for report in reports:
            await client.publish(report)
            await client.publish(report)  # a district system that sends twice
    finally:
        stack.start("breach")

    for reference in references:
        received = await alerts_for(client, "mosovo-north", reference, count=2)
        assert sorted(r["alert"]["kind"] for r in received) == ["breach", "order allocated"]
        assert all(r["copies"] == 1 for r in received)


async def test_two_notifier_replicas_send_each_alert_once_and_one_carries_on_alone(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=28)
    stack.start("notification#2")
    try:
        first = await granted_orders(client, people, 2)
        stack.kill("notification")  # whichever was dispatching, one replica is left
        second = await granted_orders(client, people, 2)
        for reference in first + second:
            [received] = await alerts_for(client, "mosovo-north", reference, count=1)
            assert received["copies"] == 1
    finally:
        if "notification" not in stack.processes:
            stack.start("notification")
        stack.stop("notification#2")
