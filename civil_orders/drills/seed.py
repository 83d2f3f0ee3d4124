"""A plausible multi-year history of the practice, made through the real services.

Every case is driven as staff and district systems would drive it (referral on Kafka or a
promoted scan candidate, triage, casework, court, breaches on Kafka), back-dated by the
dates those inputs carry: when a referral was made, when the court made its order, when a
breach happened. Recording times are when the seed ran. Fictional people only.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from rich.console import Console
from rich.progress import Progress

from civil_orders.drills.demo import (
    CASEWORKER,
    LEGAL,
    build_case,
    court_grants,
    team_managing,
    to_court,
)
from civil_orders.drills.synthetic import DISTRICTS, Synthetic
from civil_orders.operations.scan import disposal_envelope
from civil_orders.stack.client import Client, eventually
from schemas.common import OrderSought
from schemas.district import DistrictDisposal, VictimAgeBand

Outcome = Literal["open", "declined", "withdrawn", "refused", "granted"]
REFERRALS_PER_YEAR = {"small": 12, "large": 40}


@dataclass(frozen=True)
class CasePlan:
    district: str
    proactive: bool
    order_type: Literal["SRO", "SHPO"]
    referred_on: date
    outcome: Outcome
    made_on: date | None = None  # the court's decision
    ends_on: date | None = None
    breaches: tuple[date, ...] = field(default=())


def _on(day: date) -> datetime:
    return datetime.combine(day, time(10, 30), UTC)


def plan_published() -> list[CasePlan]:
    """Shaped like the practice's published figures: 34 SROs made between July 2020 and
    August 2023, 14 breaches of them, 8 of those by one subject; besides, referrals that were
    declined, withdrawn or refused, and some SHPOs."""
    rng = random.Random(2020)
    start, months = date(2020, 7, 1), 38
    plans = []
    for number in range(34):
        made_on = start + timedelta(days=int(number * months * 30.4 / 34) + rng.randrange(20))
        plans.append(_granted(rng, "SRO", made_on, years=rng.choice([2, 3, 5])))
    plans[6] = _with_breaches(plans[6], [40 + 75 * i for i in range(8)])  # one subject's eight
    for index, count in ((10, 2), (15, 1), (20, 1), (25, 1), (30, 1)):
        plans[index] = _with_breaches(plans[index], [60 + 90 * i for i in range(count)])
    for number in range(4):
        plans.append(_granted(rng, "SHPO", date(2021, 2, 1) + timedelta(days=200 * number), 5))
    plans += _not_granted(rng, date(2020, 6, 1), 38 * 30, count=16)
    return plans


def plan_history(years: int, force_size: str, today: date, seed: int = 7) -> list[CasePlan]:
    """`years` of referrals at the rate of a small or large force, ending a month ago."""
    rng = random.Random(seed)
    span = years * 365
    first = today - timedelta(days=span + 30)
    plans = []
    for _ in range(years * REFERRALS_PER_YEAR[force_size]):
        referred_on = first + timedelta(days=rng.randrange(span))
        if rng.random() < 0.35:
            [plan] = _not_granted(rng, referred_on, 1, count=1)
            if plan.made_on is not None and plan.made_on >= today:  # not decided yet
                plan = CasePlan(**{**plan.__dict__, "outcome": "open", "made_on": None})
            plans.append(plan)
            continue
        order_type: Literal["SRO", "SHPO"] = "SHPO" if rng.random() < 0.25 else "SRO"
        made_on = referred_on + timedelta(days=rng.randrange(50, 200))
        if made_on >= today:  # still being prepared
            plans.append(CasePlan(rng.choice(DISTRICTS), False, order_type, referred_on, "open"))
            continue
        plan = _granted(rng, order_type, made_on, years=5 if order_type == "SHPO" else 2)
        plan = CasePlan(**{**plan.__dict__, "referred_on": referred_on})
        in_force_days = (min(plan.ends_on or today, today) - made_on).days
        count = rng.choice([0, 0, 0, 1, 1, 2, 4]) if in_force_days > 1 else 0
        plans.append(_with_breaches(plan, [rng.randrange(1, in_force_days) for _ in range(count)]))
    return plans


def _granted(rng: random.Random, order_type: str, made_on: date, years: int) -> CasePlan:
    return CasePlan(
        district=rng.choice(DISTRICTS),
        proactive=rng.random() < 0.3,
        order_type="SHPO" if order_type == "SHPO" else "SRO",
        referred_on=made_on - timedelta(days=rng.randrange(45, 240)),
        outcome="granted",
        made_on=made_on,
        ends_on=made_on + timedelta(days=years * 365 + 2),
    )


def _with_breaches(plan: CasePlan, days_after_order: list[int]) -> CasePlan:
    assert plan.made_on is not None
    made_on = plan.made_on
    breaches = tuple(sorted(made_on + timedelta(days=days) for days in days_after_order))
    return CasePlan(**{**plan.__dict__, "breaches": breaches})


def _not_granted(rng: random.Random, first: date, span_days: int, count: int) -> list[CasePlan]:
    outcomes: list[Outcome] = ["declined", "declined", "declined", "withdrawn", "refused"]
    plans = []
    for _ in range(count):
        referred_on = first + timedelta(days=rng.randrange(span_days))
        outcome = rng.choice(outcomes)
        plans.append(
            CasePlan(
                district=rng.choice(DISTRICTS),
                proactive=rng.random() < 0.3,
                order_type="SRO",
                referred_on=referred_on,
                outcome=outcome,
                made_on=None if outcome == "declined" else referred_on + timedelta(days=90),
            )
        )
    return plans


# An outreach session ("roadshow"): district, the day held, who attended
OutreachPlan = tuple[str, date, str]
AUDIENCES = ("BCU response officers", "safeguarding hub", "CID", "neighbourhood teams")


def plan_outreach(first: date, last: date, seed: int = 11) -> list[OutreachPlan]:
    """A session for each district's staff each year from `first` to `last`, at a different
    time of year each."""
    rng = random.Random(seed)
    sessions = [
        (district, first + timedelta(days=365 * year + rng.randrange(30, 330)),
         f"{district} {rng.choice(AUDIENCES)}")
        for year in range((last - first).days // 365 + 1) for district in DISTRICTS
    ]  # fmt: skip
    return [session for session in sessions if session[1] <= last]


async def record_outreach(client: Client, sessions: list[OutreachPlan]) -> None:
    """Record the sessions through the web app, as a caseworker signed in by the local issuer."""
    web = client.urls["web"]
    token = await client.http.post(f"{web}/api/token", json={"username": "cw-1"})
    headers = {"Authorization": f"Bearer {token.raise_for_status().json()['access_token']}"}
    for district, held_on, audience in sessions:
        body = {"district": district, "held_on": held_on.isoformat(), "audience": audience}
        recorded = await client.http.post(f"{web}/api/outreach", json=body, headers=headers)
        recorded.raise_for_status()


async def seed(
    client: Client, plans: list[CasePlan], console: Console, concurrency: int = 6
) -> dict[str, int]:
    """Drive every planned case through the services; returns counts by outcome."""
    people = Synthetic(seed=len(plans))
    gate = asyncio.Semaphore(concurrency)
    counts: dict[str, int] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("seeding cases", total=len(plans))

        async def one(plan: CasePlan) -> None:
            async with gate:
                await drive(client, people, plan)
            counts[plan.outcome] = counts.get(plan.outcome, 0) + 1
            progress.advance(task)

        await asyncio.gather(*(one(plan) for plan in sorted(plans, key=lambda p: p.referred_on)))
    return counts


async def drive(client: Client, people: Synthetic, plan: CasePlan) -> None:
    referral_id = await (_promoted if plan.proactive else _referred)(client, people, plan)
    await client.command("referral", f"/referrals/{referral_id}/review", CASEWORKER)
    if plan.outcome == "declined":
        await client.command(
            "referral",
            f"/referrals/{referral_id}/decline",
            CASEWORKER,
            {"reason": "insufficient evidence", "detail": "Synthetic: not enough to apply."},
        )
        return
    await client.command("referral", f"/referrals/{referral_id}/accept", CASEWORKER)
    application = await client.found("application", f"/applications/by-referral/{referral_id}")
    await build_case(client, application["id"], plan.order_type)
    if plan.outcome == "open":
        return
    assert plan.made_on is not None
    decide = _decision(client, application["id"], plan.made_on)
    if plan.outcome == "withdrawn":
        await decide("withdraw", "Synthetic: the subject left the country.")
        return
    await to_court(client, application["id"], plan.made_on)
    if plan.outcome == "refused":
        await decide("refuse", "Synthetic: necessity not shown.")
        return
    reference = await court_grants(client, application["id"], plan.made_on, plan.ends_on)
    if plan.breaches:
        await team_managing(client, reference)
    for day in plan.breaches:
        await client.publish(people.breach(plan.district, reference, occurred_at=_on(day)))


def _decision(
    client: Client, application_id: str, on: date
) -> Callable[[str, str], Awaitable[None]]:
    async def decide(verb: str, reason: str) -> None:
        await client.command(
            "application",
            f"/applications/{application_id}/{verb}",
            LEGAL,
            {"decided_on": on.isoformat(), "reason": reason},
        )

    return decide


async def _referred(client: Client, people: Synthetic, plan: CasePlan) -> str:
    referral = people.referral(
        plan.district, OrderSought(plan.order_type), referred_at=_on(plan.referred_on)
    )
    await client.publish(referral)
    path = f"/referrals/by-reference/{plan.district}/{referral.payload.district_reference}"
    return str((await client.found("referral", path))["id"])


async def _promoted(client: Client, people: Synthetic, plan: CasePlan) -> str:
    """A disposal that screening flags, promoted by a caseworker on the planned day."""
    subject = people.subject()
    disposal = DistrictDisposal(
        district=plan.district,
        crime_reference=f"CR/{subject.nominal_id}",
        outcome_code="15",
        offence="synthetic online child sexual abuse",
        offence_category="online child sexual abuse",
        sexual_offence=True,
        suspect_nominal_id=subject.nominal_id,
        victim_age_band=VictimAgeBand.UNDER_13,
        disposed_on=plan.referred_on - timedelta(days=21),
    )
    await client.publish(disposal_envelope(disposal, "seed"))

    async def candidate() -> str | None:
        response = await client.get(
            "referral", f"/candidates?crime_reference={disposal.crime_reference}"
        )
        found = response.json()
        return str(found[0]["candidate_id"]) if found else None

    candidate_id = await eventually(candidate, 30, f"a candidate for {disposal.crime_reference}")
    promoted = await client.command(
        "referral",
        f"/candidates/{candidate_id}/promote",
        CASEWORKER,
        {
            "subject": subject.model_dump(mode="json"),
            "order_sought": plan.order_type,
            "grounds": "Synthetic: screening flagged an online offence against a child.",
            "referred_on": plan.referred_on.isoformat(),
        },
    )
    return str(promoted["referral_id"])
