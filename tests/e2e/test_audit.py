"""Auditors replay a case: every event in every service in time order, who did what and when
under which correlation, what the system knew at a past moment, and an export to keep."""

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

from typer.testing import CliRunner, Result

from civil_orders.cli import app
from civil_orders.drills.demo import accept, alerts_for, change_order, grant, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.operations.audit import CaseHistory, consult
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from schemas import dates
from schemas.district import DistrictBreachReportV1


async def audit(*args: str) -> Result:
    """`civil-orders audit case ...`, as an auditor runs it."""

    def run() -> Result:
        return CliRunner().invoke(app, ["audit", "case", *args])

    return await asyncio.to_thread(run)


async def settled(database_url: str, ref: str) -> tuple[datetime, CaseHistory]:
    """A moment just past, and the case's history as of then (alerts escalate on their own
    a few seconds later, so the history up to now keeps growing)."""
    moment = dates.now()
    await asyncio.sleep(0.5)
    return moment, await asyncio.to_thread(consult, database_url, ref, moment)


async def granted_order(client: Client, people: Synthetic) -> tuple[str, str, str]:
    """A referral in the north, accepted and granted; returns (referral id, order id, reference)."""
    referral = await refer(client, people, "north")
    application = await accept(client, referral["id"])
    reference = await grant(client, application["id"])
    opened = (await client.get("application", f"/applications/{application['id']}")).json()
    await team_managing(client, reference)
    return referral["id"], opened["order_id"], reference


async def breach_service_has(client: Client, reference: str, first_term_kind: str) -> bool:
    order = (await client.get("breach", f"/orders/{reference}")).json()
    return bool(order["terms"][0]["kind"] == first_term_kind)


async def breached(client: Client, people: Synthetic) -> tuple[str, str, DistrictBreachReportV1]:
    """A granted order breached, and the team alerted of both; returns (referral id, order
    reference, the breach report)."""
    referral_id, _, reference = await granted_order(client, people)
    breach = people.breach("north", reference)
    await client.publish(breach)
    await alerts_for(client, "mosovo-north", reference, count=2)
    return referral_id, reference, breach


async def test_an_audit_lists_a_case_s_events_from_every_service_in_time_order_with_who_and_why(
    client: Client, stack: Stack
) -> None:
    referral_id, reference, breach = await breached(client, Synthetic(seed=81))

    printed = await audit(referral_id, "--database-url", stack.database_url)
    _, history = await settled(stack.database_url, referral_id)

    assert printed.exit_code == 0, printed.output
    for shown in ("Referral.Received", "Application.Opened", "Order.Granted", "Breach.Recorded"):
        assert shown in printed.output
    assert "Alert.Requested" in printed.output
    assert "legal-services:ls-demo" in printed.output
    assert str(breach.correlation_id) in printed.output
    assert {e.service for e in history.events} == {
        "referral",
        "application",
        "breach",
        "notification",
    }
    assert [e.time for e in history.events] == sorted(e.time for e in history.events)
    assert all(
        e.actor and e.correlation_id for e in history.events if e.event != "LinkedToExisting"
    )
    by_name = {f"{e.aggregate}.{e.event}": e for e in history.events}
    # the application was opened in the same thread of work as the caseworker's acceptance
    accepted, opened = by_name["Referral.Accepted"], by_name["Application.Opened"]
    assert (accepted.actor, opened.actor) == ("caseworker:cw-demo", "service:application")
    assert opened.correlation_id == accepted.correlation_id
    # the breach and the team's alert about it carry the district system's correlation
    alerts = [e for e in history.events if e.event == "Requested" and e.fields["kind"] == "breach"]
    assert by_name["Breach.Recorded"].correlation_id == breach.correlation_id
    assert [a.correlation_id for a in alerts] == [breach.correlation_id]
    assert history.case.orders == {by_name["Order.Granted"].aggregate_id: reference}


async def test_a_case_is_found_the_same_from_its_order_reference_order_id_or_application_id(
    client: Client, stack: Stack
) -> None:
    referral_id, order_id, reference = await granted_order(client, Synthetic(seed=82))

    moment, by_referral = await settled(stack.database_url, referral_id)
    found = [
        await asyncio.to_thread(consult, stack.database_url, ref, moment)
        for ref in (reference.lower(), order_id, str(by_referral.case.application_id))
    ]

    assert found[0].ref == reference
    for history in found:
        assert history.case == by_referral.case
        assert history.events == by_referral.events


async def test_as_of_a_moment_before_a_variation_shows_the_old_terms_and_after_it_the_new(
    client: Client, stack: Stack
) -> None:
    _, order_id, reference = await granted_order(client, Synthetic(seed=83))
    devices = {"action": "reword", "term_number": 1, "kind": "requirement",
               "wording": "To disclose every internet-capable device.",
               "reason": "Synthetic: he has hidden a phone from officers."}  # fmt: skip

    before, then = await settled(stack.database_url, reference)
    await change_order(client, order_id, "variation", [("POST", "term-changes", devices)])
    await eventually(
        lambda: breach_service_has(client, reference, "requirement"), 30, "the breach service"
    )
    _, now = await settled(stack.database_url, reference)
    printed = await audit(
        reference, "--as-of", before.isoformat(), "--database-url", stack.database_url
    )

    assert printed.exit_code == 0, printed.output
    assert "Order.Granted" in printed.output and "Order.Varied" not in printed.output
    assert "Varied" not in {e.event for e in then.events}
    assert {"Order.Varied", "KnownOrder.Varied"} <= {f"{e.aggregate}.{e.event}" for e in now.events}
    # and the application to vary it, which went through its own steps, is the case's too
    assert {"OrderApplication.Opened", "OrderApplication.OutcomeRecorded"} <= {
        f"{e.aggregate}.{e.event}" for e in now.events
    }
    old, new = [next(s for s in h.states if s.aggregate == "Order").fields for h in (then, now)]
    assert [(t.kind, t.wording) for t in old["terms"]] == [
        ("prohibition", "Not to have unsupervised contact with any child under 16.")
    ]
    assert [(t.kind, t.wording) for t in new["terms"]] == [
        ("requirement", "To disclose every internet-capable device.")
    ]
    assert new["ends_on"] == old["ends_on"] == dates.today() + timedelta(days=2 * 365 + 1)


async def test_an_export_writes_every_event_as_a_json_line_and_a_readable_html_document(
    client: Client, stack: Stack, tmp_path: Path
) -> None:
    referral_id, reference, _ = await breached(client, Synthetic(seed=84))
    moment, history = await settled(stack.database_url, reference)

    written = await audit(
        reference,
        "--as-of",
        moment.isoformat(),
        "--export",
        str(tmp_path),
        "--database-url",
        stack.database_url,
    )

    assert written.exit_code == 0, written.output
    lines = [
        json.loads(line) for line in (tmp_path / f"{reference}.jsonl").read_text().splitlines()
    ]
    assert len(lines) == len(history.events)
    assert lines[0]["event"] == "Received" and lines[0]["fields"]["subject"]["name"]
    assert {line["service"] for line in lines} == {
        "referral",
        "application",
        "breach",
        "notification",
    }
    document = (tmp_path / f"{reference}.html").read_text()
    assert referral_id in document and f"Audit of case {reference}" in document
    assert f"{len(lines)} event(s)" in document


async def test_an_unknown_reference_or_a_time_that_is_not_one_is_refused_clearly(
    stack: Stack,
) -> None:
    unknown = await audit("ORD-2026-00000000", "--database-url", stack.database_url)
    no_such_id = await audit(str(uuid4()), "--database-url", stack.database_url)
    bad_time = await audit(
        "ORD-2026-00000000", "--as-of", "last week", "--database-url", stack.database_url
    )

    assert unknown.exit_code == 1
    assert "no referral, application or order has the id or reference" in unknown.output
    assert no_such_id.exit_code == 1
    assert bad_time.exit_code == 2
    assert "is not a time" in bad_time.output and "8601" in bad_time.output
