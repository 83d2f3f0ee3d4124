"""The evaluation's disposals: only those naming people an order is made against leave the
referral service. Those screened before a person's first order go when it is made, later
ones as they are screened, and how far back screening reaches goes with them; a disposal
naming someone with no order stays where it was screened."""

import secrets
from datetime import timedelta
from typing import Any

import asyncpg

from civil_orders.drills.demo import accept, grant, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from schemas import dates
from tests.e2e.test_read_models import disposal_naming, disposals_matched_to

BEFORE_DAYS, MADE_DAYS, AFTER_DAYS = 47, 10, 2


async def screened(client: Client, nominal: str, count: int) -> None:
    """Until the referral service holds `count` disposals screened naming the person."""

    async def holds() -> bool:
        body = {"nominal_id": nominal}
        held = await client.http.post(f"{client.urls['referral']}/subjects/access", json=body)
        return held.status_code == 200 and len(held.json()["disposals_screened"]) == count

    await eventually(holds, 30, f"{count} disposal(s) screened naming {nominal}")


async def query(stack: Stack, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(stack.database_url)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def test_a_persons_disposals_reach_the_evaluation_once_an_order_is_made_against_them(
    client: Client, stack: Stack
) -> None:
    people = Synthetic(seed=613)
    referral = await refer(client, people, "north")
    nominal = referral["subject_nominal_id"]
    bystander = f"SYN-NO-ORDER-{secrets.token_hex(3)}"
    before_on = dates.today() - timedelta(days=BEFORE_DAYS)
    count_that_day = "SELECT count(*) FROM rm_disposals.disposals WHERE disposed_on = $1"
    already = await query(stack, count_that_day, before_on)

    # screened before any order: the person's and a bystander's, neither published yet
    await client.publish(disposal_naming(bystander, days_ago=BEFORE_DAYS))
    await client.publish(disposal_naming(nominal, days_ago=BEFORE_DAYS))
    await screened(client, bystander, 1)
    await screened(client, nominal, 1)
    application = await accept(client, referral["id"])
    made_on = dates.today() - timedelta(days=MADE_DAYS)
    reference = await grant(client, application["id"], made_on=made_on)
    # and one after the order, published as it is screened
    await client.publish(disposal_naming(nominal, days_ago=AFTER_DAYS))

    async def both() -> list[Any] | None:
        matched = await disposals_matched_to(stack, reference)
        return matched if matched and len(matched) == 2 else None

    matched = await eventually(both, 30, "the person's two disposals in the read model")
    assert sorted(row["disposed_on"] for row in matched) == [
        before_on, dates.today() - timedelta(days=AFTER_DAYS),
    ]  # fmt: skip
    # the bystander's, closed the same day, was not published
    assert await query(stack, count_that_day, before_on) == already + 1
    # and screening is known to reach back at least that far
    earliest = await query(stack, "SELECT earliest_disposed_on FROM rm_disposals.coverage")
    assert earliest is not None and earliest <= before_on
