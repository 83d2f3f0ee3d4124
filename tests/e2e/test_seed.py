"""A history shaped like the practice's published figures, made through the real services,
reaches the read models intact."""

from datetime import date

from civil_orders.drills.seed import plan_published, seed
from civil_orders.stack.client import Client, eventually
from tests.e2e.test_read_models import QUIET

WINDOW = (date(2020, 7, 1), date(2023, 8, 31))


def in_window(day: str) -> bool:
    return WINDOW[0] <= date.fromisoformat(day[:10]) <= WINDOW[1]


async def test_the_published_history_is_made_through_the_services(client: Client) -> None:
    plans = plan_published()
    counts = await seed(client, plans, QUIET)
    assert counts["granted"] == 38

    async def all_sros() -> list[dict[str, object]] | None:
        rows = await client.every("readmodels", "/orders", {"include_ended": "true"})
        sros = [r for r in rows if r["order_type"] == "SRO" and in_window(str(r["made_on"]))]
        return sros if len(sros) >= 34 else None

    async def all_breaches() -> list[dict[str, object]] | None:
        rows = await client.every("readmodels", "/breaches")
        ours = [r for r in rows if r["order_type"] == "SRO" and in_window(str(r["occurred_at"]))]
        return ours if len(ours) >= 14 else None

    assert len(await eventually(all_sros, 60, "34 SROs in the register")) == 34
    breaches = await eventually(all_breaches, 60, "14 SRO breaches in the register")
    assert len(breaches) == 14
    by_subject: dict[object, int] = {}
    for breach in breaches:
        by_subject[breach["subject_nominal_id"]] = (
            by_subject.get(breach["subject_nominal_id"], 0) + 1
        )
    assert max(by_subject.values()) == 8
