"""The evaluation judges the casework by the orders it obtained: an SHPO a court made on
conviction is on the register, in force and managed, but no application of ours preceded it,
so it is not counted as obtained."""

from datetime import date

import asyncpg

from services.readmodels import orders
from services.readmodels.evaluation import evaluate
from tests.service.upstream import order_granted

MARCH = date(2023, 3, 1), date(2023, 3, 31)


async def test_an_shpo_made_on_conviction_is_in_force_but_not_obtained_by_the_casework(
    read_models: asyncpg.Connection,
) -> None:
    made_on = date(2023, 3, 10)
    obtained = order_granted("ORD-2023-CASEWORK", "SYN-EVAL-0001", starts_on=made_on)
    by_a_court = order_granted("ORD-2023-CONVICTN", "SYN-EVAL-0002", starts_on=made_on)
    on_conviction = by_a_court.model_copy(update={"payload": by_a_court.payload.model_copy(
        update={"application_id": None, "case_number": "T20237001"})})  # fmt: skip
    for event in (obtained, on_conviction):
        await orders.PROJECTION.apply_in(read_models, orders.PROJECTION.schema, event)

    found = await evaluate(read_models, *MARCH, today=date(2023, 6, 1))

    assert found.orders["2023-03"]["SRO"] == 1
    assert sum(found.live_orders["north"].values()) == 2
