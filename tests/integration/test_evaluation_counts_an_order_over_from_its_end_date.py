"""The evaluation counts an order as over from its end date, as the order register does: one
that ended on the period's first day was not in force during the period, and the period's
breaches are not divided by it."""

from datetime import UTC, date, datetime, time

import asyncpg

from schemas.breach import BreachRecordedV1
from services.readmodels import breaches, orders
from services.readmodels.evaluation import evaluate
from tests.service.upstream import breach_recorded, order_expired, order_granted

MARCH = date(2023, 3, 1), date(2023, 3, 31)


def breach_on(reference: str, day: date) -> BreachRecordedV1:
    """A breach of the order that happened at noon on `day`."""
    breach = breach_recorded(reference)
    noon = datetime.combine(day, time(12), UTC)
    return breach.model_copy(
        update={"payload": breach.payload.model_copy(update={"occurred_at": noon})}
    )


async def test_an_order_that_ended_on_the_periods_first_day_was_not_in_force_during_it(
    read_models: asyncpg.Connection,
) -> None:
    # one SRO ends on 1 March, as the period starts; another a day later, breached that day
    for event in (
        order_granted("ORD-2021-ENDS0301", "SYN-EVAL-0001", starts_on=date(2021, 3, 1),
                      ends_on=date(2023, 3, 1)),
        order_expired("ORD-2021-ENDS0301", "SYN-EVAL-0001", ended_on=date(2023, 3, 1)),
        order_granted("ORD-2021-ENDS0302", "SYN-EVAL-0002", starts_on=date(2021, 3, 2),
                      ends_on=date(2023, 3, 2)),
        breach_on("ORD-2021-ENDS0302", date(2023, 3, 1)),
    ):  # fmt: skip
        for projection in (orders.PROJECTION, breaches.PROJECTION):
            await projection.apply_in(read_models, projection.schema, event)

    found = await evaluate(read_models, *MARCH, today=date(2023, 6, 1))

    assert found.breaches["SRO"]["orders in force during the period"] == 1
    assert found.breaches["SRO"]["breaches per order in force"] == 1
    # as the outcomes section counts the orders in force in the period
    assert found.outcomes.rates["SRO"]["orders in force"] == 1
