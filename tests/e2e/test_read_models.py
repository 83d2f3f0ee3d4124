"""The read models: built live from the events on Kafka, and the same when rebuilt from the
services' event history; a rebuild swaps in while the live ones keep serving."""

import asyncio
import secrets
from collections import Counter
from datetime import timedelta
from typing import Any

import asyncpg
from rich.console import Console

from civil_orders.drills.demo import CASEWORKER, accept, grant, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.operations.projections import (
    named,
    rebuild_projections,
    replaying,
    verify_projections,
)
from civil_orders.operations.scan import disposal_envelope
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from plumbing.rebuild import Replay, rebuild
from schemas import dates
from schemas.district import DistrictDisposal, VictimAgeBand
from schemas.envelope import Envelope
from tests.web import as_

QUIET = Console(quiet=True)


async def mixed_history(client: Client) -> dict[str, Any]:
    """An order granted, varied and breached, and a disposal naming its subject since; a
    referral declined; an application refused; an outreach session recorded."""
    people = Synthetic(seed=601)
    referral = await refer(client, people, "north")
    application = await accept(client, referral["id"])
    reference = await grant(client, application["id"], made_on=dates.today() - timedelta(days=3))
    await team_managing(client, reference)
    await client.publish(people.breach("north", reference))
    await client.publish(disposal_naming(referral["subject_nominal_id"]))

    declined = await refer(client, people, "east")
    await client.command("referral", f"/referrals/{declined['id']}/review", CASEWORKER)
    await client.command(
        "referral",
        f"/referrals/{declined['id']}/decline",
        CASEWORKER,
        {"reason": "insufficient evidence", "detail": "Synthetic: no act of a sexual nature."},
    )
    session = {"district": "north", "held_on": "2021-03-10", "audience": "north CID"}
    recorded = await (await as_(client, "cw-1")).request("POST", "/api/outreach", json=session)
    assert recorded.status_code == 201, recorded.text
    return {"referral": referral, "reference": reference, "declined": declined}


def disposal_naming(nominal_id: str, days_ago: int = 1) -> Any:
    """A crime closed `days_ago` (yesterday) without a charge, naming the person as suspect."""
    disposal = DistrictDisposal(
        district="north",
        crime_reference=f"CR/RM/{secrets.token_hex(4)}",
        outcome_code="16",
        offence="synthetic exposure",
        offence_category="exposure",
        sexual_offence=True,
        suspect_nominal_id=nominal_id,
        victim_age_band=VictimAgeBand.ADULT,
        disposed_on=dates.today() - timedelta(days=days_ago),
    )
    return disposal_envelope(disposal, "read-model-test")


async def disposals_matched_to(stack: Stack, reference: str) -> list[Any] | None:
    """The disposals the read model matches to the order's subject (by their key's id)."""
    connection = await asyncpg.connect(stack.database_url)
    try:
        rows = await connection.fetch(
            """SELECT d.* FROM rm_disposals.disposals d
               JOIN rm_breaches.order_subjects s USING (subject) WHERE s.order_reference = $1""",
            reference,
        )
    finally:
        await connection.close()
    return [dict(row) for row in rows] or None


def allocated(reference: str) -> Any:
    return lambda rows: any(r["order_reference"] == reference and r["team"] for r in rows)


async def live_shows(client: Client, path: str, check: Any, what: str) -> Any:
    async def attempt() -> Any:
        response = await client.get("readmodels", path)
        body = response.json() if response.status_code == 200 else None
        return body if body is not None and check(body) else None

    return await eventually(attempt, 30, what)


async def test_live_read_models_show_the_caseload_orders_breaches_alerts_and_case_trail(
    client: Client, stack: Stack
) -> None:
    case = await mixed_history(client)
    reference = case["reference"]

    orders = await live_shows(
        client, f"/orders?order_reference={reference}", allocated(reference),
        "the order in the register",
    )  # fmt: skip
    breaches = await live_shows(
        client, f"/breaches?order_reference={reference}", lambda rows: len(rows) == 1,
        "the breach in the register",
    )  # fmt: skip
    declined = await live_shows(
        client, "/caseload/summary", lambda rows: any(r["state"] == "declined" for r in rows),
        "a declined referral in the caseload",
    )  # fmt: skip
    trail = await live_shows(
        client, f"/cases/{reference}/events",
        lambda rows: {"ReferralReceived", "OrderGranted", "BreachRecorded", "AlertRequested"}
        <= {r["event_type"] for r in rows}, "the case's trail across services",
    )  # fmt: skip

    [order] = [o for o in orders if o["order_reference"] == reference]
    assert (order["order_type"], order["district"], order["in_force"]) == ("SRO", "north", True)
    assert breaches[0]["order_type"] == "SRO" and breaches[0]["subject_nominal_id"]
    assert declined
    producers = [event["producer"] for event in trail]
    assert {"referral", "application", "breach", "notification"} <= set(producers)
    times = [event["occurred_at"] for event in trail]
    assert times == sorted(times)
    assert trail[0]["event_type"] == "ReferralReceived"
    assert (await client.get("readmodels", "/cases/ORD-0000-404/events")).status_code == 404
    # the disposal, matched to the order's subject with nothing readable kept of them
    matched = await eventually(
        lambda: disposals_matched_to(stack, reference), 30, "the disposal in the read model"
    )
    [disposal] = matched
    assert (disposal["disposed_on"], disposal["outcome_code"]) == (
        dates.today() - timedelta(days=1), "16",
    )  # fmt: skip
    assert case["referral"]["subject_nominal_id"] not in str(disposal)


async def test_every_projection_matches_a_rebuild_from_scratch_and_survives_a_swap(
    client: Client, stack: Stack
) -> None:
    case = await mixed_history(client)
    reference = case["reference"]
    await live_shows(
        client, f"/breaches?order_reference={reference}", lambda rows: len(rows) == 1,
        "the breach in the register",
    )  # fmt: skip

    assert await verify_projections(stack.database_url, stack.urls(), named([]), QUIET) == []

    # rebuild every projection in one pass while the live ones are being read
    reading = asyncio.create_task(read_continuously(client, reference))
    async with replaying(stack.database_url, stack.urls()) as (connection, replay):
        reads = count_reads(replay)
        applied = await rebuild(connection, named([]), replay, lambda read, total: None)
    served = await reading
    assert all(count > 0 for count in applied.values()), applied
    assert served and all(status == 200 for status in served)
    # each service's history is read from its start once, for all the projections, and
    # so is what it stored during that pass (asked for once, with every projection locked)
    read = {producer: at for producer, at in replay.positions.items() if at}
    assert {"referral", "application", "breach", "notification"} <= read.keys()
    from_start = {producer: reads[producer, 0] for producer in read}
    assert set(from_start.values()) == {1}, from_start
    since_the_pass = {producer: reads[producer, at] for producer, at in read.items()}
    assert set(since_the_pass.values()) == {1}, since_the_pass

    assert await verify_projections(stack.database_url, stack.urls(), named([]), QUIET) == []
    orders = (await client.get("readmodels", f"/orders?order_reference={reference}")).json()
    assert reference in {o["order_reference"] for o in orders}


def count_reads(replay: Replay) -> Counter[tuple[str, int]]:
    """Counts the reads of `replay`'s feed (and of the replays resumed from it), by service
    and the position each read from."""
    reads: Counter[tuple[str, int]] = Counter()
    feed = replay.feed

    async def counted(producer: str, after: int) -> tuple[list[Envelope], int, int]:
        reads[producer, after] += 1
        return await feed(producer, after)

    replay.feed = counted
    return reads


async def read_continuously(client: Client, reference: str) -> list[int]:
    statuses = []
    for _ in range(20):
        statuses.append((await client.get("readmodels", f"/cases/{reference}/events")).status_code)
        await asyncio.sleep(0.05)
    return statuses


async def test_a_live_row_that_differs_from_the_history_is_reported(
    client: Client, stack: Stack
) -> None:
    case = await mixed_history(client)
    reference = case["reference"]
    await live_shows(
        client, f"/orders?order_reference={reference}", allocated(reference),
        "the order in the register",
    )  # fmt: skip
    connection = await asyncpg.connect(stack.database_url)
    try:
        await connection.execute(
            "UPDATE rm_orders.orders SET team = 'mosovo-nowhere' WHERE order_reference = $1",
            reference,
        )
        # every projection verified in one pass: only the altered one differs
        [difference] = await verify_projections(stack.database_url, stack.urls(), named([]), QUIET)
    finally:
        await rebuild_projections(stack.database_url, stack.urls(), named(["orders"]), QUIET)
        await connection.close()

    assert (difference.projection, difference.table) == ("orders", "orders")
    assert (difference.only_live, difference.only_rebuilt) == (1, 1)
    assert difference.example and difference.example["team"] == "mosovo-nowhere"
