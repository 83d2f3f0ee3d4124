"""A caseworker's application, from drafting through quality assurance and legal services
to the court's decision, over HTTP on the real stack."""

from datetime import timedelta

from civil_orders.drills.demo import (
    CASEWORKER,
    LEGAL,
    accept,
    alerts_for,
    build_case,
    refer,
    to_court,
)
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from schemas import dates
from schemas.common import OrderSought
from schemas.dates import months_after
from services.application.domain_dates import years_after


async def test_a_case_failing_quality_assurance_says_what_is_missing_then_passes_when_fixed(
    client: Client,
) -> None:
    application = await accept(client, (await refer(client, Synthetic(seed=91), "north"))["id"])
    path = f"/applications/{application['id']}"

    await client.command("application", f"{path}/submit-for-qa", CASEWORKER)
    failed = await client.command("application", f"{path}/quality-assurance", CASEWORKER)
    refused = await client.http.post(
        f"{client.urls['application']}{path}/application-made",
        json={"court": "Northtown MC", "made_on": dates.today().isoformat()},
        headers={"X-Actor": LEGAL},
    )

    assert failed["passed"] is False
    assert "the legal test has not been set out" in failed["missing"]
    assert "the draft order has no prohibitions or requirements" in failed["missing"]
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the application is at drafting, not with legal services"

    await build_case(client, application["id"])
    await to_court(client, application["id"], dates.today())
    assert (await client.get("application", path)).json()["stage"] == "hearing listed"


async def test_legal_services_return_a_case_and_a_refusal_keeps_its_reason(
    client: Client,
) -> None:
    application = await accept(client, (await refer(client, Synthetic(seed=92), "north"))["id"])
    path = f"/applications/{application['id']}"
    await build_case(client, application["id"])
    passed = await client.command("application", f"{path}/quality-assurance", CASEWORKER)
    assert passed == {"passed": True, "missing": []}

    await client.command(
        "application", f"{path}/return", LEGAL, {"comments": "Add the school's statement."}
    )
    await client.command("application", f"{path}/submit-for-qa", CASEWORKER)
    await to_court(client, application["id"], dates.today())
    await client.command(
        "application",
        f"{path}/refuse",
        LEGAL,
        {"decided_on": dates.today().isoformat(), "reason": "Necessity not shown."},
    )

    decided = (await client.get("application", path)).json()
    assert (decided["stage"], decided["outcome"]) == ("decided", "refused")
    assert decided["outcome_reason"] == "Necessity not shown."
    assert decided["legal_services_comments"] == ["Add the school's statement."]


async def test_an_shpo_goes_from_referral_to_a_granted_order_allocated_to_its_team(
    client: Client,
) -> None:
    people = Synthetic(seed=93)
    referral = people.referral("south")
    referral = referral.model_copy(
        update={"payload": referral.payload.model_copy(update={"order_sought": OrderSought.SHPO})}
    )
    await client.publish(referral)
    recorded = await client.found(
        "referral", f"/referrals/by-reference/south/{referral.payload.district_reference}"
    )
    application = await accept(client, recorded["id"])
    assert application["order_type"] == "SHPO"
    path = f"/applications/{application['id']}"
    shpo_test = {
        "qualifying_offence": "Synthetic: sexual assault (Schedule 3).",
        "conviction_or_caution": "Synthetic: convicted at Northtown Crown Court, 2019.",
        "conduct_since": "Synthetic: loitering at a school gate, 2026.",
        "necessity": "Synthetic: the conduct shows a continuing risk to children.",
    }
    await client.command("application", f"{path}/legal-test", CASEWORKER, shpo_test, "PUT")
    await client.command(
        "application",
        f"{path}/terms",
        CASEWORKER,
        {
            "kind": "prohibition",
            "wording": "Not to enter any school premises.",
            "necessary_and_proportionate": "Synthetic: the conduct was at a school.",
        },
    )
    await client.command(
        "application",
        f"{path}/evidence",
        CASEWORKER,
        {
            "kind": "previous convictions",
            "description": "Synthetic: PNC record.",
            "source": "Police National Computer",
            "dated": dates.today().isoformat(),
            "supports": ["qualifying offence", "conduct since", "necessity"],
        },
    )
    four_years = (dates.today() + timedelta(days=4 * 365)).isoformat()
    await client.command(
        "application", f"{path}/duration", CASEWORKER, {"ends_on": four_years}, "PUT"
    )
    await client.command("application", f"{path}/submit-for-qa", CASEWORKER)
    short = await client.command("application", f"{path}/quality-assurance", CASEWORKER)
    assert short["missing"] == [
        "an SHPO must last at least 5 years "
        f"(to {years_after(dates.today(), 5).isoformat()} or later)"
    ]

    await client.command(
        "application", f"{path}/duration", CASEWORKER, {"until_further_order": True}, "PUT"
    )
    await client.command("application", f"{path}/submit-for-qa", CASEWORKER)
    await to_court(client, application["id"], dates.today())
    granted = await client.command(
        "application",
        f"{path}/grant",
        LEGAL,
        {
            "court": "Northtown Magistrates' Court",
            "made_on": dates.today().isoformat(),
            "ends_on": None,
            "terms": [{"kind": "prohibition", "wording": "Not to enter any school premises."}],
        },
    )
    reference = granted["order_reference"]

    async def allocation_email() -> list[dict[str, str]] | None:
        mail = await client.mail("mosovo-south@teams.example")
        return [m for m in mail if reference in m["body"]] or None

    [email] = await eventually(allocation_email, 30, f"the allocation email for {reference}")
    assert "order allocated" in email["body"]


async def test_a_complaint_deadline_near_at_hand_raises_a_warning_for_the_caseworker(
    client: Client,
) -> None:
    application = await accept(client, (await refer(client, Synthetic(seed=94), "north"))["id"])
    path = f"/applications/{application['id']}"
    matter_on = months_after(dates.today(), -6) + timedelta(days=10)  # about ten days left

    await client.command(
        "application",
        f"{path}/matter-date",
        CASEWORKER,
        {"matter_on": matter_on.isoformat()},
        "PUT",
    )

    async def warned() -> dict[str, object] | None:
        shown = (await client.get("application", path)).json()
        return shown if shown["deadline_warned_for"] else None

    shown = await eventually(warned, 30, "the complaint-deadline warning")
    assert shown["deadline_warned_for"] == shown["complaint_deadline"]
    assert shown["complaint_deadline"] == months_after(matter_on, 6).isoformat()


async def test_an_interim_order_is_followed_by_the_full_order_which_replaces_it(
    client: Client,
) -> None:
    people = Synthetic(seed=95)
    application = await accept(client, (await refer(client, people, "north"))["id"])
    await build_case(client, application["id"])
    await to_court(client, application["id"], dates.today())
    path = f"/applications/{application['id']}"
    terms = [{"kind": "prohibition", "wording": "Not to enter any school premises."}]
    grant = {"court": "Northtown MC", "made_on": dates.today().isoformat(), "terms": terms}

    interim = await client.command(
        "application", f"{path}/interim-order", LEGAL, {**grant, "ends_on": None}
    )
    full = await client.command("application", f"{path}/grant", LEGAL, {**grant, "ends_on": None})

    alerts = await alerts_for(client, "mosovo-north", interim["order_reference"], count=2)
    assert sorted(a["alert"]["kind"] for a in alerts) == [
        "order allocated",
        f"order ended on {dates.today().isoformat()}: replaced by {full['order_reference']}",
    ]
    await alerts_for(client, "mosovo-north", full["order_reference"], count=1)
    shown = (await client.get("application", path)).json()
    assert shown["outcome"] == "granted" and shown["interim_order_id"]
