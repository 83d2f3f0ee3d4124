"""Expiry and renewal review fire from a controllable clock: a stack whose date is set two
years ahead, with no waiting for real time to pass."""

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from civil_orders.drills.demo import accept, alerts_for, grant, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack, running_stack
from schemas import dates
from services.application.domain_dates import years_after

TODAY = dates.today()
TWO_YEARS_ON = years_after(TODAY, 2)


@pytest.fixture(scope="module")
def future_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOCK_DATE", TWO_YEARS_ON.isoformat())
        env.setenv("ORDER_CALENDAR_CHECK_SECONDS", "0.5")
        env.setenv("REFERRAL_CHECK_SECONDS", "0.5")
        data_dir = Path(tmp_path_factory.mktemp("future"))
        with running_stack(data_dir, usual_ports=False) as stack:
            yield stack


@pytest.fixture
async def future_client(future_stack: Stack) -> AsyncIterator[Client]:
    stack = future_stack
    async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
        yield client


async def test_on_its_end_date_an_order_expires_after_its_renewal_review(
    future_client: Client,
) -> None:
    people = Synthetic(seed=101)
    ending = await grant(
        future_client,
        (await accept(future_client, (await refer(future_client, people, "north"))["id"]))["id"],
        made_on=TODAY,
        ends_on=TWO_YEARS_ON,
    )
    later = await grant(
        future_client,
        (await accept(future_client, (await refer(future_client, people, "north"))["id"]))["id"],
        made_on=TODAY,
        ends_on=TWO_YEARS_ON + timedelta(days=40),
    )

    ended = await alerts_for(future_client, "mosovo-north", ending, count=3)
    reviewed = await alerts_for(future_client, "mosovo-north", later, count=2)

    assert sorted(a["alert"]["kind"] for a in ended) == [
        "order allocated",
        f"order ended on {TWO_YEARS_ON.isoformat()}: it reached its end date",
        f"renewal review due: the order ends on {TWO_YEARS_ON.isoformat()}",
    ]
    review = (
        f"renewal review due: the order ends on {(TWO_YEARS_ON + timedelta(days=40)).isoformat()}"
    )
    assert sorted(a["alert"]["kind"] for a in reviewed) == ["order allocated", review]


async def test_a_referral_left_untriaged_past_the_service_level_is_flagged_overdue(
    future_stack: Stack, future_client: Client
) -> None:
    referral = await refer(future_client, Synthetic(seed=102), "north")

    async def overdue() -> bool:
        path = f"/referrals?status=received&referral_id={referral['id']}"
        queue = (await future_client.get("referral", path)).json()
        return any(r["overdue"] for r in queue)

    assert not await overdue()  # received today, by the stack's clock
    a_month_on = (TWO_YEARS_ON + timedelta(days=30)).isoformat()
    # the referral service a month on, and left so: the module's last test, on its own stack
    future_stack.stop("referral")
    future_stack.start("referral", env={"CLOCK_DATE": a_month_on})
    await eventually(overdue, 30, "the referral to be flagged overdue for triage")
