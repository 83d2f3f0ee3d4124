"""The evaluation report, run on a fictional history shaped like the practice's published
figures: 34 SROs obtained between July 2020 and August 2023; 14 SRO breaches, 8 of them by one
subject. The history goes into a database of its own on the test server, never the shared
read models."""

import asyncio
import csv
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from typer.testing import CliRunner

from civil_orders.cli import app
from civil_orders.stack.embedded import Stack
from services.readmodels import audit, breaches, caseload, disposals, orders, outreach
from services.readmodels.evaluation import Evaluation, connect_and_evaluate, render_html, write_csv

START, END, TODAY = date(2020, 7, 1), date(2023, 8, 31), date(2024, 6, 30)
DISTRICTS = ("north", "south", "east", "west")


def month(first: date, months: int, day: int = 10) -> date:
    years, index = divmod(first.month - 1 + months, 12)
    return date(first.year + years, index + 1, day)


@dataclass
class History:
    """Rows for the read-model tables, written the way the projections would have."""

    referrals: list[tuple[Any, ...]] = field(default_factory=list)
    applications: list[tuple[Any, ...]] = field(default_factory=list)
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    subjects: list[tuple[str, str, str]] = field(default_factory=list)
    breaches: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)  # published, as the audit has them
    sessions: list[tuple[str, date, str]] = field(default_factory=list)  # outreach
    disposals: list[tuple[str, date, str]] = field(default_factory=list)  # (subject, day, code)

    def referral(
        self, referred_on: date, district: str, source: str, status: str, caseworker: Any = None
    ) -> uuid.UUID:
        referral_id = uuid.uuid4()
        at = datetime(referred_on.year, referred_on.month, referred_on.day, 12, tzinfo=UTC)
        self.referrals.append((referral_id, district, source, referred_on, at, status, caseworker))
        return referral_id

    def application(
        self, referral_id: uuid.UUID, district: str, opened: date, outcome: str, decided: Any
    ) -> Any:
        application_id = uuid.uuid4()
        at = datetime(opened.year, opened.month, opened.day, 9, tzinfo=UTC)
        self.applications.append((application_id, referral_id, district, at, outcome, decided))
        return application_id

    def event(self, aggregate_id: Any, event_type: str, day: date, **payload: Any) -> None:
        self.events.append((
            uuid.uuid4(), "referral", len(self.events) + 1, event_type, aggregate_id, at(day),
            "caseworker:cw-1", uuid.uuid4(), None, f"aggregate:{aggregate_id}",
            json.dumps(payload),
        ))  # fmt: skip

    def order(
        self, application_id: Any, district: str, order_type: str, made_on: date, **state: Any
    ) -> str:
        reference = f"ORD-{made_on.year}-{len(self.orders) + 1:04d}"
        subject = state.get("subject", f"NOM-FICT-{len(self.orders) + 1:04d}")
        in_force, due = state.get("in_force", True), state.get("renewal_due", False)
        ends_on, ended_on = state.get("ends_on"), state.get("ended_on")
        self.orders.append(
            (reference, application_id, order_type, order_type.startswith("interim"), subject,
             district, made_on, ends_on, in_force, ended_on, due)
        )  # fmt: skip
        self.subjects.append((reference, subject, order_type))
        return reference

    def case(self, referred_on: date, n: int, order_type: str, made_on: date, **state: Any) -> Any:
        """A referral that became an application and a full order."""
        district, source = DISTRICTS[n % 4], "proactive scan" if n % 4 == 1 else "staff form"
        worker = f"caseworker:cw-{n % 2 + 1}"
        referral_id = self.referral(referred_on, district, source, "accepted", worker)
        opened = referred_on + timedelta(days=20)
        application_id = self.application(referral_id, district, opened, "granted", made_on)
        # under review after 2 days, taken on after 20; 30 days drafting, 10 in QA, 10 with
        # legal services, then at court until the order
        self.event(referral_id, "ReferralReceived", referred_on, district=district,
                   source=source, referred_on=referred_on.isoformat())  # fmt: skip
        self.event(referral_id, "ReferralStatusChanged", referred_on + timedelta(days=2),
                   status="under review")  # fmt: skip
        self.event(referral_id, "ReferralAccepted", opened)
        self.event(application_id, "ApplicationOpened", opened)
        for days, stage in ((50, "quality assurance"), (60, "with legal services"),
                            (70, "application made to court")):  # fmt: skip
            self.event(application_id, "ApplicationStageChanged",
                       referred_on + timedelta(days=days), stage=stage)  # fmt: skip
        self.event(application_id, "ApplicationStageChanged", made_on, stage="decided")
        return application_id, self.order(application_id, district, order_type, made_on, **state)

    def breach(self, reference: str, occurred_at: datetime) -> None:
        number = sum(1 for b in self.breaches if b[1] == reference) + 1
        self.breaches.append((uuid.uuid4(), reference, occurred_at, number))


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def published_history() -> History:
    history = History()
    # 34 full SROs, one a month from July 2020 to April 2023; SRO i took 100 + 10 i days from
    # referral, so the median is 265 days. Every third has ended; every fourth was proactive.
    # The first five were referred before the period: 29 of their referrals fall inside it.
    sros = []
    for i in range(34):
        made_on = month(START, i)
        ended = {"in_force": False, "ended_on": made_on + timedelta(days=731)} if i % 3 == 0 else {}
        _, reference = history.case(
            made_on - timedelta(days=100 + 10 * i), i, "SRO", made_on,
            ends_on=made_on + timedelta(days=731), renewal_due=i == 1, **ended,
        )  # fmt: skip
        sros.append(reference)
    # An interim SRO in the tenth SRO's application, made before the full order.
    interim_application = history.applications[10][0]
    interim = history.order(
        interim_application, "east", "interim SRO", month(START, 8), subject="NOM-FICT-0011",
        in_force=False, ended_on=month(START, 10),
    )  # fmt: skip
    # Three SHPOs in the period, of 400, 410 and 420 days; the first referred before it.
    shpos = [
        history.case(made_on - timedelta(days=days), 2, "SHPO", made_on, renewal_due=days == 400)[1]
        for made_on, days in ((date(2021, 3, 10), 400), (date(2022, 3, 10), 410),
                              (date(2023, 3, 10), 420))
    ]  # fmt: skip
    # Orders outside the period: an SRO from 2019 (in force into it, then ended), an SRO made
    # after it from a referral inside it, and an SHPO made after `TODAY`.
    older = history.case(
        date(2019, 6, 1), 0, "SRO", date(2019, 11, 20), ends_on=date(2021, 11, 20),
        in_force=False, ended_on=date(2021, 11, 20),
    )[1]  # fmt: skip
    history.case(date(2023, 6, 1), 3, "SRO", date(2023, 10, 2))
    history.case(date(2023, 8, 1), 0, "SHPO", date(2024, 8, 1))
    # Referrals that got no order: an application refused, four declined (one proactive), one
    # declined the day before the period, one still under review on its last day.
    refused = history.referral(date(2022, 2, 2), "south", "district:south", "accepted")
    history.application(refused, "south", date(2022, 2, 20), "refused", date(2022, 5, 5))
    for day in (date(2021, 1, 5), date(2021, 9, 9), date(2022, 11, 11)):
        history.referral(day, "west", "district:west", "declined")
    history.referral(date(2022, 6, 6), "north", "proactive scan", "declined")
    history.referral(date(2020, 6, 30), "north", "staff form", "declined")
    history.referral(END, "east", "staff form", "under review")
    # 14 SRO breaches in the period: 8 by one subject, 2 by another, 4 by four more, one of
    # them of the 2019 SRO on the period's first morning (UK time; still 30 June in UTC).
    for k in range(8):
        history.breach(sros[5], at(month(START, 6 + k, 3)))
    for k in range(2):
        history.breach(sros[7], at(month(START, 9 + k, 4)))
    for reference in (sros[8], sros[9], sros[12]):
        history.breach(reference, at(month(START, 14, 5)))
    history.breach(older, at(date(2020, 6, 30), 23, 30))
    # Not SRO breaches in the period: two of an SHPO, one of the interim SRO; and outside it,
    # the 2019 SRO in March 2020 and the most-breaching subject just after midnight UK time.
    history.breach(shpos[0], at(date(2021, 6, 1)))
    history.breach(shpos[0], at(date(2021, 7, 1)))
    history.breach(interim, at(month(START, 9, 1)))
    history.breach(older, at(date(2020, 3, 1)))
    history.breach(sros[5], at(END, 23, 30))
    # Two proactive-scan candidates raised in May 2021, from north's disposals.
    for raised in (date(2021, 5, 3), date(2021, 5, 4)):
        history.event(uuid.uuid4(), "ProactiveCandidateIdentified", raised, district="north")
    # Outreach sessions: four in the period, one after it.
    history.sessions += [
        ("south", date(2021, 4, 1), "south BCU neighbourhood teams"),
        ("north", date(2021, 6, 1), "north safeguarding hub"),
        ("west", date(2021, 8, 1), "west BCU response officers"),
        ("east", date(2023, 8, 1), "east CID"),
        ("north", date(2023, 9, 15), "north CID"),
    ]
    # Non-positive disposals naming people, matched by nominal. Each SRO is followed 731 days
    # from its order (the last ones to the period's end), and as long before it.
    history.disposals += [
        ("NOM-FICT-0001", date(2019, 1, 15), "15"),  # the first SRO's before; first on record
        ("NOM-FICT-0001", date(2020, 7, 10), "16"),  # the order's own day: after
        ("NOM-FICT-0001", date(2021, 1, 1), "15"),  # after
        ("NOM-FICT-0006", date(2020, 6, 1), "21"),  # the eight-breach subject's: before
        ("NOM-FICT-0006", date(2020, 12, 9), "15"),  # the day before the order
        ("NOM-FICT-0006", date(2022, 12, 11), "15"),  # 731 days on: the order is over
        ("NOM-FICT-0011", date(2021, 4, 1), "10"),  # under the interim order: before the full
        ("NOM-FICT-0034", date(2022, 11, 16), "15"),  # a day before the window (144 days)
        ("NOM-FICT-0034", date(2023, 5, 1), "15"),  # after
        ("NOM-FICT-0034", date(2023, 9, 15), "15"),  # after the period
        ("NOM-FICT-0036", date(2022, 1, 1), "16"),  # the first SHPO's: after
        ("NOM-FICT-0039", date(2021, 1, 1), "15"),  # the 2019 SRO's subject: not followed
        ("NOM-FICT-9999", date(2021, 6, 1), "15"),  # nobody under an order
    ]
    return history


async def write(connection: asyncpg.Connection, history: History) -> None:
    for projection in (caseload.PROJECTION, orders.PROJECTION, breaches.PROJECTION,
                       audit.PROJECTION, outreach.PROJECTION, disposals.PROJECTION):  # fmt: skip
        await projection.create(connection)
    await connection.executemany(
        "INSERT INTO rm_disposals.disposals VALUES (gen_random_uuid(), $1, $2, $3)",
        history.disposals,
    )
    await connection.executemany(
        """INSERT INTO rm_outreach.sessions VALUES (gen_random_uuid(), $1, $2, $3, '',
               'caseworker:cw-1', now())""",
        history.sessions,
    )
    await connection.executemany(
        """INSERT INTO rm_caseload.referrals (referral_id, district, source, order_sought,
               referred_on, received_at, status, status_since, caseworker)
           VALUES ($1, $2, $3, 'SRO', $4, $5, $6, $5, $7)""",
        history.referrals,
    )
    await connection.executemany(
        """INSERT INTO rm_caseload.applications (application_id, referral_id, district,
               order_type, opened_at, stage, stage_since, outcome, decided_on)
           VALUES ($1, $2, $3, 'SRO', $4, 'decided', $4, $5, $6)""",
        history.applications,
    )
    await connection.executemany(
        "INSERT INTO rm_audit.events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        history.events,
    )
    await connection.executemany(
        """INSERT INTO rm_orders.orders (order_reference, order_id, application_id, order_type,
               interim, subject_nominal_id, district, court, made_on, ends_on, terms, in_force,
               ended_on, renewal_review_due)
           VALUES ($1, gen_random_uuid(), $2, $3, $4, $5, $6, 'Fictional Magistrates', $7, $8,
                   $9::jsonb, $10, $11, $12)""",
        [(*row[:8], json.dumps([]), *row[8:]) for row in history.orders],
    )
    await connection.executemany(
        "INSERT INTO rm_breaches.order_subjects VALUES ($1, $2, $2, $3)", history.subjects
    )
    await connection.executemany(
        """INSERT INTO rm_breaches.breaches (breach_id, order_reference, district,
               report_reference, occurred_at, condition_breached, breach_number)
           VALUES ($1, $2, 'north', 'RPT-FICT', $3, 'prohibition 1', $4)""",
        history.breaches,
    )


@pytest.fixture(scope="module")
async def history_database(stack: Stack) -> AsyncIterator[str]:
    """A fresh database on the stack's server holding the published-figures history."""
    name = f"report_{secrets.token_hex(6)}"
    server = await asyncpg.connect(stack.database_url)
    await server.execute(f"CREATE DATABASE {name}")
    url = urlsplit(stack.database_url)._replace(path=f"/{name}").geturl()
    try:
        connection = await asyncpg.connect(url)
        try:
            await write(connection, published_history())
        finally:
            await connection.close()
        yield url
    finally:
        await server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await server.close()


@pytest.fixture(scope="module")
async def evaluation(history_database: str) -> Evaluation:
    return await connect_and_evaluate(history_database, START, END, TODAY)


async def test_the_evaluation_reproduces_the_published_figures(evaluation: Evaluation) -> None:
    sro = evaluation.breaches["SRO"]
    assert evaluation.orders_by_type == {"SRO": 34, "SHPO": 3}
    assert evaluation.interim_orders == {"interim SRO": 1}
    assert sro["breaches"] == 14
    assert sro["breaches by the most-breaching subject"] == 8
    assert sro["share of breaches by the most-breaching subject"] == pytest.approx(8 / 14)
    assert evaluation.breaches_per_subject["SRO"] == [8, 2, 1, 1, 1, 1]
    assert (sro["orders with at least one breach"], sro["subjects with at least one breach"]) == (
        6,
        6,
    )
    # 34 SROs made in the period and the 2019 one, in force into it
    assert sro["orders in force during the period"] == 35
    assert sro["breaches per order in force"] == pytest.approx(14 / 35)


async def test_the_evaluation_counts_other_orders_breaches_apart(evaluation: Evaluation) -> None:
    assert evaluation.breaches["SHPO"]["breaches"] == 2
    assert evaluation.breaches["interim SRO"]["breaches"] == 1
    everything = evaluation.breaches["all"]
    assert everything["breaches"] == 17
    assert everything["subjects with at least one breach"] == 8
    assert everything["share of breaches by the most-breaching subject"] == pytest.approx(8 / 17)


async def test_the_evaluation_counts_conversion_and_time_to_order(evaluation: Evaluation) -> None:
    conversion = {
        source: (f["referrals received"], f["became applications"], f["obtained a full order"],
                 f["declined"])
        for source, f in evaluation.conversion.items()
    }  # fmt: skip
    # 29 SROs, 2 SHPOs, the SRO made after the period, the SHPO made after TODAY, the refusal,
    # four declined, one under review
    assert conversion == {
        "district": (30, 26, 24, 3),
        "proactive scan": (9, 8, 8, 1),
        "all": (39, 34, 32, 4),
    }
    assert evaluation.referrals["north"]["proactive scan"] == 1
    assert sum(sum(row.values()) for row in evaluation.referrals.values()) == 39
    days = evaluation.time_to_order
    assert (days["SRO"]["orders"], days["SRO"]["median days"]) == (34, 265)
    assert (days["SRO"]["lower quartile days"], days["SRO"]["upper quartile days"]) == (
        182.5,
        347.5,
    )
    assert (days["SRO"]["fewest days"], days["SRO"]["most days"]) == (100, 430)
    assert (days["SHPO"]["median days"], days["all"]["median days"]) == (410, 280)


async def test_the_evaluation_counts_orders_by_month_and_live_orders(
    evaluation: Evaluation,
) -> None:
    assert len(evaluation.orders) == 38  # July 2020 to August 2023
    assert evaluation.orders["2020-07"] == {"SRO": 1, "SHPO": 0}
    assert evaluation.orders["2021-03"] == {"SRO": 1, "SHPO": 1}
    assert evaluation.orders["2023-08"] == {"SRO": 0, "SHPO": 0}
    live = {
        t: sum(row.get(t, 0) for row in evaluation.live_orders.values()) for t in ("SRO", "SHPO")
    }
    due = sum(sum(row.values()) for row in evaluation.renewals_due.values())
    # on TODAY, of the 34 SROs (two years each) only those made from July 2022 are still in
    # force, less every third (ended): 6, and the SRO made after the period; all four SHPOs
    # (no end date). What the calendar has not yet marked ended is over all the same; so is
    # the renewal review of the one that ended in 2022: only the SHPO's is due.
    assert (live, due) == ({"SRO": 7, "SHPO": 4}, 1)


async def test_the_evaluation_times_each_stage_and_costs_each_order(
    evaluation: Evaluation,
) -> None:
    c = evaluation.capacity
    # the 34 SROs and 3 SHPOs made in the period are timed; the refusal has no steps
    assert (c.full_orders, c.cases_timed, c.cases_not_timed) == (37, 37, 1)
    medians = {stage: figures["median days"] for stage, figures in c.stage_days.items()}
    # at court: 30 to 360 days for the SROs, 330 to 350 for the SHPOs; the 19th of 37 is 210
    assert medians == {
        "awaiting triage": 2,
        "triage": 18,
        "drafting": 30,
        "quality assurance": 10,
        "with legal services": 10,
        "at court": 210,
    }
    days = (END - START).days + 1
    assert c.caseworkers == 2 and c.caseworker_years == pytest.approx(2 * days / 365.25)
    assert c.cost_per_order == pytest.approx(33684 * 2 * days / 365.25 / 37)
    # the referral under review on the period's last day, half a day old at its end
    assert c.queue["2023-08"] == {"waiting": 1, "median age days": 0.5, "oldest age days": 0.5}
    assert sum(sum(month.values()) for month in c.arrivals.values()) == 39
    assert c.candidates["2021-05"] == 2 and sum(c.candidates.values()) == 2
    # at the end of July 2020: the SROs made from August to November (taken on 20 days after
    # their referral, 110 to 140 days before the order) and the first SHPO are held
    assert sum(c.caseload["2020-07"].values()) == 5


async def test_the_simulation_reproduces_the_period_and_forecasts_one_to_four_caseworkers(
    evaluation: Evaluation,
) -> None:
    forecast = evaluation.what_if
    assert forecast is not None

    assert forecast.fit.orders == 37 and forecast.reproduces_the_period
    assert [s.caseworkers for s in forecast.scenarios] == [1, 2, 3, 4]
    one, two = forecast.scenarios[:2]
    assert one.time_to_order_days.middle >= two.time_to_order_days.middle
    assert all(s.orders_per_year.low <= s.orders_per_year.high for s in forecast.scenarios)


async def test_the_evaluation_follows_orders_to_their_first_breach(evaluation: Evaluation) -> None:
    o = evaluation.outcomes
    sro = [step for step in o.survival["SRO"] if step.breached]

    # of the 34 SROs made in the period, five were breached: 24 days after the order (the
    # subject who breached eight times), 53, 57, 148 and 179 days after
    assert o.orders_followed == {"SRO": 34, "SHPO": 3, "all": 37}
    assert [step.day for step in sro] == [24, 53, 57, 148, 179]
    # the SROs of March and April 2023 are followed only 174 and 143 days (to the period's
    # end): 30 are followed to day 148 and 28 to day 179
    assert [step.at_risk for step in sro] == [34, 33, 32, 30, 28]
    assert sro[-1].without_breach == pytest.approx(31 / 34 * 29 / 30 * 27 / 28)
    # the SROs' days in force in the period: two years each (or to the period's end), and
    # the 2019 SRO's from the period's start to its end on 20 November 2021
    days = (
        sum(
            (
                min(month(START, i) + timedelta(days=731), END + timedelta(days=1))
                - month(START, i)
            ).days
            for i in range(34)
        )
        + (date(2021, 11, 20) - START).days
    )
    assert o.rates["SRO"]["breaches"] == 14
    assert o.rates["SRO"]["order-months"] == pytest.approx(days / (365.25 / 12))
    assert o.rates["SRO"]["breaches per 100 order-months"] == pytest.approx(
        1400 / (days / (365.25 / 12))
    )


async def test_the_evaluation_sets_each_outreach_session_beside_its_districts_referrals(
    evaluation: Evaluation,
) -> None:
    o = evaluation.outreach
    south, north, west, east = o.sessions

    assert o.months == 3
    # south's referrals are all from scanning, which are not the district's own
    assert (south.before.referrals, south.after.referrals) == (0, 0)
    # north: 14 May before (1 March to 31 May); 4 August after (1 June to 31 August); the
    # two candidates raised from north's disposals on 3 and 4 May
    assert (north.before.days, north.before.referrals, north.after.referrals) == (92, 1, 1)
    assert (north.before.candidates, north.after.candidates) == (2, 0)
    # west: 15 July before; the declined one of 9 September and 5 October after
    assert (west.before.referrals, west.after.referrals) == (1, 2)
    assert west.after.referrals_a_month == pytest.approx(2 / (92 / (365.25 / 12)))
    # east's after is cut at the period's end: one referral, on its last day
    assert (east.after.days, east.after.referrals, east.before.referrals) == (31, 1, 0)
    assert o.referrals["2021-07"] == {"east": 0, "north": 0, "south": 0, "west": 1}
    # the session after the period is in no table
    assert o.held["2021-08"]["west"] == 1 and sum(sum(m.values()) for m in o.held.values()) == 4


async def test_the_evaluation_sets_disposals_after_each_first_order_beside_those_before(
    evaluation: Evaluation,
) -> None:
    d = evaluation.disposals
    sro, shpo, everyone = d.figures["SRO"], d.figures["SHPO"], d.figures["all"]
    # each SRO followed 731 days from its order, or to the period's end, and as long before
    days = sum(
        (min(month(START, i) + timedelta(days=731), END + timedelta(days=1)) - month(START, i)).days
        for i in range(34)
    )
    years = days / 365.25

    assert list(d.figures) == ["SRO", "SHPO", "all"]
    assert sro["people followed"] == 34
    assert sro["person-years in each window"] == pytest.approx(years)
    # before: the first SRO's subject once, the eight-breach subject twice, the interim
    # order's subject once; after: the first SRO's subject twice and the last SRO's once
    assert (sro["disposals before"], sro["disposals after"]) == (4, 3)
    assert sro["disposals per person-year before"] == pytest.approx(4 / years)
    assert sro["disposals per person-year after"] == pytest.approx(3 / years)
    assert (sro["people with a disposal before"], sro["people with a disposal after"]) == (3, 2)
    # the SHPOs, in force to the period's end: 905, 540 and 175 days
    assert shpo["person-years in each window"] == pytest.approx(1620 / 365.25)
    assert (shpo["disposals before"], shpo["disposals after"]) == (0, 1)
    assert (everyone["people followed"], everyone["disposals after"]) == (37, 4)
    # the SROs of July 2020 to January 2021 and the first SHPO look back before 15 January 2019
    assert (d.first_on_record, d.before_the_record) == (date(2019, 1, 15), 8)


def test_the_html_shows_the_figures_with_charts_and_their_tables(evaluation: Evaluation) -> None:
    html = render_html(evaluation)

    assert re.search(r"<strong>34</strong> SROs obtained", html)
    assert re.search(r"<strong>14</strong> SRO breaches,\s*<strong>8</strong> of them", html)
    assert re.search(r'<th scope="row">SRO</th><td class="n">34</td>', html)
    # the median row of the days from referral to order: SRO, SHPO, all
    assert re.search(r'<th scope="row">median days</th>\s*<td class="n">265</td>'
                     r'<td class="n">410</td><td class="n">280</td>', html)  # fmt: skip
    # a chart each for referrals, orders by month, breaches per subject of each order type,
    # arrivals, the queue, the caseload, outreach, the simulated time to order and the
    # survival curve
    assert html.count("<svg") == 12
    assert "A breach counts only once it is detected" in html
    assert "Before and after is not cause and effect" in html
    assert re.search(r"<strong>37</strong> people whose first full\s+order", html)
    assert re.search(r'<th scope="row">disposals after</th>\s*<td class="n">3</td>'
                     r'<td class="n">1</td><td class="n">4</td>', html)  # fmt: skip
    for caveat in ("A disposal is not a conviction", "Displacement",
                   "Detection changes under management", "Small numbers"):  # fmt: skip
        assert caveat in html.split('id="disposals"')[1].split("</aside>")[0]
    assert re.search(r"<strong>4</strong> outreach sessions held:.*?<strong>2</strong>\s*"
                     r"referrals in the 3 months before them and <strong>4</strong>", html,
                     re.DOTALL)  # fmt: skip
    assert re.search(r"the period obtained\s*<strong>37</strong>, within the band", html)
    assert re.search(r'<th scope="row">staff cost per full order</th><td class="n">£[0-9,]+</td>',
                     html)  # fmt: skip
    for label in re.findall(r'<svg role="img" aria-labelledby="([^"]+)"', html):
        assert f'id="{label}"' in html
    assert "<script src" not in html and "http://kozea" not in html
    assert all("scope=" in th for th in re.findall(r"<th(?:\s[^>]*)?>", html))
    assert html.count("<table>") == html.count("<caption>")


def test_a_month_either_side_of_a_session_reads_as_one_month(evaluation: Evaluation) -> None:
    html = render_html(replace(evaluation, outreach=replace(evaluation.outreach, months=1)))

    assert "referrals in the 1 month before them" in html and "1 months" not in html


def test_the_csv_holds_the_same_figures(evaluation: Evaluation, tmp_path: Path) -> None:
    path = tmp_path / "evaluation.csv"
    write_csv(evaluation, path)

    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    value = {(r["section"], r["measure"], r["dimension"]): r["value"] for r in rows}
    assert len(value) == len(rows)  # one row per figure
    assert value["orders", "full orders obtained", "type=SRO"] == "34"
    assert value["orders", "full orders obtained", "month=2021-03; type=SHPO"] == "1"
    assert value["breaches", "breaches", "type=SRO"] == "14"
    assert value["breaches", "breaches by the most-breaching subject", "type=SRO"] == "8"
    assert value["breaches per subject", "breaches", "type=SRO; subject=1"] == "8"
    assert value["time from referral to order", "median days", "type=SRO"] == "265"
    assert value["conversion", "obtained a full order", "source=all"] == "32"
    assert value["referrals", "referrals received", "all"] == "39"
    assert value["live orders", "orders in force", "type=SRO"] == "7"
    assert value["period", "from", ""] == "2020-07-01"
    assert value["time in each stage", "median days", "stage=drafting"] == "30"
    assert value["cost", "caseworkers costed", ""] == "2"
    assert value["queue", "waiting at the month's end", "month=2023-08"] == "1"
    assert value["what-if", "full orders obtained in the period", ""] == "37"
    assert value["breach rates", "breaches", "type=SRO"] == "14"
    assert value["time to first breach", "breached", "type=SRO; day=24"] == "1"
    assert value["time to first breach", "first breaches", "type=SRO"] == "5"
    assert value["what-if", "full orders per year", "caseworkers=3; band=middle"]
    west = "district=west; held_on=2021-08-01; audience=west BCU response officers"
    assert value["outreach", "district referrals after", west] == "2"
    assert value["outreach", "proactive-scan candidates before",
                 "district=north; held_on=2021-06-01; audience=north safeguarding hub"] == "2"
    assert value["outreach", "district referrals made", "month=2021-07; district=west"] == "1"
    assert value["disposals around orders", "disposals before", "type=SRO"] == "4"
    assert value["disposals around orders", "people followed", "type=all"] == "37"
    assert value["disposals around orders", "first disposal on record", ""] == "2019-01-15"
    assert value["disposals around orders", "caveat", "caveat=1"].startswith(
        "A disposal is not a conviction"
    )


def test_the_report_command_writes_the_html_and_csv(history_database: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["report", "--from", "2020-07-01", "--to", "2023-08-31", "--out", str(tmp_path),
         "--database-url", history_database],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    html = tmp_path / "evaluation-2020-07-01-2023-08-31.html"
    table = tmp_path / "evaluation-2020-07-01-2023-08-31.csv"
    assert "<svg" in html.read_text(encoding="utf-8")
    assert "type=SRO" in table.read_text(encoding="utf-8")
    assert "SROs obtained" in result.output and "8 by one subject" in result.output


def test_a_period_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["report", "--from", "2023-08-31", "--to", "2020-07-01", "--out", str(tmp_path),
         "--database-url", "postgresql://nobody@127.0.0.1:9/none"],
    )  # fmt: skip

    assert result.exit_code == 2
    assert "must not end before it starts" in result.output
    assert not list(tmp_path.iterdir())


def test_the_paper_opens_with_a_summary_and_prints_to_pdf(
    history_database: str, evaluation: Evaluation, tmp_path: Path
) -> None:
    summary = render_html(evaluation).split('<nav aria-label="Contents">')[0]
    cost = evaluation.capacity.cost_per_order
    assert cost is not None
    assert f"<strong>£{cost:,.0f}</strong>" in summary
    assert re.search(r"With 3 caseworkers instead of 2, the simulation\s+gives", summary)
    assert "reproduces\n      the period's orders within its band" in summary
    assert "had no breach in their first year" in summary

    result = CliRunner().invoke(
        app,
        ["report", "--from", "2020-07-01", "--to", "2023-08-31", "--format", "pdf",
         "--out", str(tmp_path), "--database-url", history_database],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    stem = tmp_path / "evaluation-2020-07-01-2023-08-31"
    assert stem.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert stem.with_suffix(".csv").exists() and not stem.with_suffix(".html").exists()


async def test_a_period_with_nothing_in_it_still_reports(history_database: str) -> None:
    empty = await connect_and_evaluate(history_database, date(2010, 1, 1), date(2010, 3, 31), TODAY)

    assert empty.orders_by_type == {"SRO": 0, "SHPO": 0}
    assert empty.breaches == {} and empty.referrals == {}
    assert "No referrals were received in the period." in render_html(empty)


async def _first_sro_referral(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        return str(await connection.fetchval(
            """SELECT a.referral_id FROM rm_orders.orders o JOIN rm_caseload.applications a
               USING (application_id) WHERE o.order_type = 'SRO' ORDER BY o.made_on LIMIT 1"""
        ))  # fmt: skip
    finally:
        await connection.close()


def test_the_case_study_command_writes_the_story_as_html_and_pdf(
    history_database: str, tmp_path: Path
) -> None:
    referral_id = asyncio.run(_first_sro_referral(history_database))
    result = CliRunner().invoke(
        app, ["case-study", referral_id, "--out", str(tmp_path), "--database-url", history_database]
    )

    assert result.exit_code == 0, result.output
    html = (tmp_path / f"case-study-{referral_id}.html").read_text(encoding="utf-8")
    # referred 100 days before the order: under review on day 2, accepted on day 20
    assert re.search(r"Day 2</span> Referral under review", html)
    assert re.search(r"Day 20</span> A caseworker accepted the referral", html)
    assert referral_id not in html
    assert (tmp_path / f"case-study-{referral_id}.pdf").read_bytes().startswith(b"%PDF")


def test_a_case_study_of_an_unknown_case_is_refused(history_database: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["case-study", "ORD-2099-0000", "--out", str(tmp_path),
              "--database-url", history_database],
    )  # fmt: skip

    assert result.exit_code == 1 and "no case is known" in result.output
