"""A caseworker's triage: the queue by age, questions back to the referrer, assignment."""

from collections import Counter

from civil_orders.drills.demo import accept, grant, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually

CASEWORKER = "caseworker:cw-1"


async def test_referrals_from_two_districts_wait_in_one_queue_oldest_first(
    client: Client,
) -> None:
    people = Synthetic(seed=81)
    first = await refer(client, people, "north")
    second = await refer(client, people, "south")

    ours = {"status": "received", "referral_id": [first["id"], second["id"]]}
    mine = (await client.get("referral", "/referrals", ours)).json()
    assert [r["district"] for r in mine] == ["north", "south"]
    assert all(r["overdue"] is False and r["hours_waiting"] >= 0 for r in mine)


async def test_a_referral_returned_with_questions_is_resubmitted_and_triaged(
    client: Client,
) -> None:
    referral = await refer(client, Synthetic(seed=82), "north")
    path = f"/referrals/{referral['id']}"

    await client.command("referral", f"{path}/review", CASEWORKER)
    await client.command(
        "referral", f"{path}/return", CASEWORKER, {"questions": ["Which school, and when?"]}
    )
    returned = (await client.get("referral", path)).json()
    refused = await client.http.post(
        f"{client.urls['referral']}{path}/accept", headers={"X-Actor": CASEWORKER}
    )
    await client.command(
        "referral", f"{path}/resubmit", "officer:pc-1", {"answers": "Northtown Primary, May."}
    )
    accepted = await client.command("referral", f"{path}/accept", CASEWORKER)

    assert returned["status"] == "returned for information"
    assert returned["questions"] == ["Which school, and when?"]
    assert refused.status_code == 409
    final = (await client.get("referral", path)).json()
    assert [h["status"] for h in final["history"]] == [
        "received",
        "under review",
        "returned for information",
        "received",
        "accepted",
    ]
    assert final["caseworker"] == accepted["caseworker"]
    assert set(final["hours_in_each_state"]) == {
        "received",
        "under review",
        "returned for information",
        "accepted",
    }


async def test_accepted_referrals_go_to_the_least_loaded_caseworker_or_the_one_named(
    client: Client,
) -> None:
    people = Synthetic(seed=83)
    referrals = [await refer(client, people, "north") for _ in range(3)]

    async def caseloads() -> Counter[str]:
        queue = await client.every("referral", "/referrals", {"status": "accepted"})
        return Counter(r["caseworker"] for r in queue)

    before = await caseloads()
    expected = min(["caseworker:cw-1", "caseworker:cw-2"], key=lambda c: before[c])
    first = await client.command("referral", f"/referrals/{referrals[0]['id']}/accept", CASEWORKER)
    by_hand = await client.command(
        "referral",
        f"/referrals/{referrals[1]['id']}/accept",
        CASEWORKER,
        {"caseworker": "caseworker:cw-2"},
    )
    await client.command(
        "referral",
        f"/referrals/{referrals[1]['id']}/reassign",
        CASEWORKER,
        {"caseworker": "caseworker:cw-1", "reason": "cw-2 on leave"},
    )

    assert first["caseworker"] == expected
    assert by_hand["caseworker"] == "caseworker:cw-2"
    moved = (await client.get("referral", f"/referrals/{referrals[1]['id']}")).json()
    assert moved["caseworker"] == "caseworker:cw-1"


async def test_a_new_referral_for_someone_with_open_casework_or_a_live_order_is_linked_to_it(
    client: Client,
) -> None:
    people = Synthetic(seed=84)
    first = people.referral("north")
    await client.publish(first)
    ref = first.payload.district_reference
    recorded = await client.found("referral", f"/referrals/by-reference/north/{ref}")

    # the same person, referred again by another district while the first is open
    again = people.referral("south")
    again = again.model_copy(
        update={"payload": again.payload.model_copy(update={"subject": first.payload.subject})}
    )
    await client.publish(again)
    second = await client.found(
        "referral", f"/referrals/by-reference/south/{again.payload.district_reference}"
    )
    assert second["links"] == [f"open referral {recorded['id']}"]

    # once the first becomes an order, a third referral is linked to the live order
    application = await accept(client, recorded["id"])
    reference = await grant(client, application["id"])
    third = people.referral("east")
    third = third.model_copy(
        update={"payload": third.payload.model_copy(update={"subject": first.payload.subject})}
    )

    nominal = first.payload.subject.nominal_id

    async def order_known() -> bool:
        casework = await client.get("referral", f"/subjects/{nominal}/open-casework")
        return f"live order {reference}" in casework.json()["links"]

    await eventually(order_known, 30, "the referral service to know of the order")
    await client.publish(third)
    linked = await client.found(
        "referral", f"/referrals/by-reference/east/{third.payload.district_reference}"
    )
    assert f"live order {reference}" in linked["links"]
    assert f"open referral {second['id']}" in linked["links"]
