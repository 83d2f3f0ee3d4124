"""The thin path, end to end, with synthetic people: referral to order to alerts.

Each step is a function a test or the benchmark can use on its own.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.console import Console

from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from schemas import dates

CASEWORKER = "caseworker:cw-demo"
LEGAL = "legal-services:ls-demo"
NO_UNSUPERVISED_CONTACT = "Not to have unsupervised contact with any child under 16."
COURT = "Northtown Magistrates' Court"
UNTIL_FURTHER_ORDER = {"until_further_order": True}


@dataclass
class DemoResult:
    referral_id: str
    application_id: str
    order_reference: str
    team: str
    alerts: list[dict[str, Any]]
    dead_letter_reason: str


async def refer(client: Client, people: Synthetic, district: str) -> dict[str, Any]:
    """A district system publishes a referral; returns it as the referral service recorded it."""
    referral = people.referral(district)
    await client.publish(referral)
    ref = referral.payload.district_reference
    return await client.found("referral", f"/referrals/by-reference/{district}/{ref}")


async def accept(client: Client, referral_id: str) -> dict[str, Any]:
    """A caseworker reviews and accepts; returns the application the service opened from it."""
    await client.command("referral", f"/referrals/{referral_id}/review", CASEWORKER)
    await client.command("referral", f"/referrals/{referral_id}/accept", CASEWORKER)
    return await client.found("application", f"/applications/by-referral/{referral_id}")


LEGAL_TESTS = {
    "SRO": {
        "act_of_a_sexual_nature": "Synthetic: repeated sexualised messages to a 13-year-old.",
        "necessity": "Synthetic: contact continued after warnings; children are at risk.",
    },
    "SHPO": {
        "qualifying_offence": "Synthetic: sexual assault (Schedule 3).",
        "conviction_or_caution": "Synthetic: convicted at Northtown Crown Court, 2019.",
        "conduct_since": "Synthetic: loitering at a school gate.",
        "necessity": "Synthetic: the conduct shows a continuing risk to children.",
    },
}
ELEMENTS = {
    "SRO": ["act of a sexual nature", "necessity"],
    "SHPO": ["qualifying offence", "conduct since", "necessity"],
}


@dataclass(frozen=True)
class Command:
    """One HTTP command of the casework, as a user would send it to a service."""

    service: str
    path: str
    actor: str
    body: Any = None
    method: str = "POST"

    async def send(self, client: Client) -> Any:
        return await client.command(self.service, self.path, self.actor, self.body, self.method)


def building(application_id: str, order_type: str = "SRO") -> list[Command]:
    """A caseworker sets out the legal test for an SRO or SHPO, proposes a term, adds the
    evidence and the duration, and submits the application for quality assurance."""
    path = f"/applications/{application_id}"
    term = {
        "kind": "prohibition",
        "wording": NO_UNSUPERVISED_CONTACT,
        "necessary_and_proportionate": "Synthetic: the risk is to children he meets.",
    }
    evidence = {
        "kind": "digital evidence",
        "description": "Synthetic: message download from the child's phone.",
        "source": "Digital forensics unit",
        "dated": (dates.today() - timedelta(days=30)).isoformat(),
        "supports": ELEMENTS[order_type],
    }
    return [
        Command("application", f"{path}/legal-test", CASEWORKER, LEGAL_TESTS[order_type], "PUT"),
        Command("application", f"{path}/terms", CASEWORKER, term),
        Command("application", f"{path}/evidence", CASEWORKER, evidence),
        Command("application", f"{path}/duration", CASEWORKER, UNTIL_FURTHER_ORDER, "PUT"),
        Command("application", f"{path}/submit-for-qa", CASEWORKER),
    ]


def to_court_commands(application_id: str, made_on: date) -> list[Command]:
    """Quality assurance (which answers whether it passed); legal services make the
    application and a hearing is listed."""
    path = f"/applications/{application_id}"
    made = {"court": COURT, "made_on": made_on.isoformat()}
    return [
        Command("application", f"{path}/quality-assurance", CASEWORKER),
        Command("application", f"{path}/application-made", LEGAL, made),
        Command("application", f"{path}/hearing", LEGAL, {"hearing_on": made_on.isoformat()}),
    ]


def granting(application_id: str, made_on: date, ends_on: date | None = None) -> Command:
    """Legal services record the court's grant at the hearing (by default, for two years);
    it answers with the order's reference."""
    ends_on = ends_on or made_on + timedelta(days=2 * 365 + 1)
    granted = {
        "court": COURT,
        "made_on": made_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "terms": [{"kind": "prohibition", "wording": NO_UNSUPERVISED_CONTACT}],
    }
    return Command("application", f"/applications/{application_id}/grant", LEGAL, granted)


async def build_case(client: Client, application_id: str, order_type: str = "SRO") -> None:
    for command in building(application_id, order_type):
        await command.send(client)


async def to_court(client: Client, application_id: str, made_on: date) -> None:
    """Quality assurance passes; legal services make the application and a hearing is listed."""
    checked, *rest = to_court_commands(application_id, made_on)
    result = await checked.send(client)
    assert result["passed"], result["missing"]
    for command in rest:
        await command.send(client)


async def grant(
    client: Client,
    application_id: str,
    made_on: date | None = None,
    ends_on: date | None = None,
) -> str:
    """The case is built, passes quality assurance and goes to court, which grants the SRO
    (by default made today, for two years); returns its reference."""
    made_on = made_on or dates.today()
    await build_case(client, application_id)
    await to_court(client, application_id, made_on)
    return await court_grants(client, application_id, made_on, ends_on)


async def awaiting_grant(client: Client, people: Synthetic, district: str) -> str:
    """A new synthetic subject's case in `district`, referred, accepted, built and heard today;
    returns its application, which waits only for the court's grant."""
    referral = await refer(client, people, district)
    application: str = (await accept(client, referral["id"]))["id"]
    await build_case(client, application)
    await to_court(client, application, dates.today())
    return application


async def court_grants(
    client: Client, application_id: str, made_on: date, ends_on: date | None = None
) -> str:
    """Legal services record the court's grant of a case at its hearing; returns the order's
    reference (by default, for two years)."""
    granted = await granting(application_id, made_on, ends_on).send(client)
    return str(granted["order_reference"])


async def open_order_application(
    client: Client, order_id: str, kind: str, grounds: str, **received: Any
) -> str:
    """A caseworker opens an application to vary, renew or discharge the order (the police's
    on the team's `grounds`; given `applicant="defendant"` and `received_on`, the defendant's);
    returns its id."""
    body = {"kind": kind, "applicant": "police", "grounds": grounds} | received
    opened = await client.command(
        "application", f"/orders/{order_id}/applications", CASEWORKER, body
    )
    return str(opened["application_id"])


async def order_application_to_court(
    client: Client, application_id: str, drafting: list[tuple[str, str, Any]], heard_on: date
) -> dict[str, Any]:
    """The caseworker drafts it (each step a method, a path under the application and a
    body), submits it and runs quality assurance; if it passes, legal services make it and a
    hearing is listed. Returns what quality assurance found."""
    path = f"/order-applications/{application_id}"
    for method, step, body in drafting:
        await client.command("application", f"{path}/{step}", CASEWORKER, body, method)
    await client.command("application", f"{path}/submit-for-qa", CASEWORKER)
    checked: dict[str, Any] = await client.command(
        "application", f"{path}/quality-assurance", CASEWORKER
    )
    if checked["passed"]:
        made = {"court": COURT, "made_on": heard_on.isoformat()}
        await client.command("application", f"{path}/application-made", LEGAL, made)
        heard = {"hearing_on": heard_on.isoformat()}
        await client.command("application", f"{path}/hearing", LEGAL, heard)
    return checked


async def change_order(
    client: Client, order_id: str, kind: str, drafting: list[tuple[str, str, Any]]
) -> str:
    """An application to vary, renew or discharge the order, opened, drafted, passed by
    quality assurance and granted by the court today; returns its id."""
    today = dates.today()
    application_id = await open_order_application(client, order_id, kind, "Synthetic reasons.")
    checked = await order_application_to_court(client, application_id, drafting, today)
    assert checked["passed"], checked["missing"]
    decided = {"decided_on": today.isoformat()}
    await client.command(
        "application", f"/order-applications/{application_id}/grant", LEGAL, decided
    )
    return application_id


async def team_managing(client: Client, reference: str) -> str:
    """Waits until the breach service knows the order and its team; returns the team."""

    async def attempt() -> str | None:
        response = await client.get("breach", f"/orders/{reference}")
        return response.json()["team"] if response.status_code == 200 else None

    return await eventually(attempt, 30, f"the breach service to know {reference}")


async def alerts_for(
    client: Client, team: str, reference: str, count: int, seconds: float = 30
) -> list[dict[str, Any]]:
    """Waits until `team` has received `count` alerts about `reference`; returns them."""

    async def attempt() -> list[dict[str, Any]] | None:
        mine = [
            a for a in await client.team_alerts(team) if a["alert"]["order_reference"] == reference
        ]
        return mine if len(mine) >= count else None

    return await eventually(attempt, seconds, f"{count} alert(s) for {reference} at {team}")


async def inbox_entry(client: Client, team: str, reference: str, **expected: Any) -> dict[str, Any]:
    """Waits until the notification service's inbox shows the alert as expected."""

    async def attempt() -> dict[str, Any] | None:
        rows = (await client.get("notification", "/alerts", {"team": team})).json()
        for row in rows:
            if row["order_reference"] == reference and all(
                row[k] == v for k, v in expected.items()
            ):
                return dict(row)
        return None

    return await eventually(attempt, 30, f"{reference} in {team}'s inbox with {expected}")


async def dead_lettered_after(client: Client, before: set[tuple[str, int]]) -> str:
    """Waits for a dead letter not in `before`; returns its reason."""

    async def attempt() -> str | None:
        new = [d for d in await client.dead_letters() if (d.service, d.id) not in before]
        return new[0].reason if new else None

    return await eventually(attempt, 30, "a new dead letter")


async def run_demo(client: Client, console: Console, district: str = "north") -> DemoResult:
    people = Synthetic()
    step = _Steps(console)

    referral = await refer(client, people, district)
    step(
        "District system referred a synthetic person on district.referrals.v1",
        f"{referral['district_reference']} recorded as {referral['id']}",
    )
    application = await accept(client, referral["id"])
    step(
        f"Caseworker accepted it ({CASEWORKER}); application opened",
        f"{application['id']} ({application['order_type']})",
    )
    reference = await grant(client, application["id"])
    step("Case built, quality-assured, taken to court; the court granted the order", reference)
    team = await team_managing(client, reference)
    alerts = await alerts_for(client, team, reference, count=1)
    step(f"MOSOVO team {team} alerted", _describe(alerts[-1]))

    breach = people.breach(district, reference)
    await client.publish(breach)
    step(
        "District system reported a breach on district.breaches.v1", breach.payload.report_reference
    )
    alerts = await alerts_for(client, team, reference, count=2)
    step(f"MOSOVO team {team} alerted again", _describe(alerts[-1]))

    before = {(d.service, d.id) for d in await client.dead_letters()}
    await client.publish_raw("district.referrals.v1", b'{"event_type": "DistrictReferral"}')
    await refer(client, people, district)
    reason = await dead_lettered_after(client, before)
    step(
        "A malformed referral went to the dead-letter table; the next good one was recorded", reason
    )
    return DemoResult(referral["id"], application["id"], reference, team, alerts, reason)


def _describe(received: dict[str, Any]) -> str:
    alert = received["alert"]
    return f"{alert['kind']} — {alert['order_reference']} {alert['link']}"


class _Steps:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.number = 0

    def __call__(self, what: str, detail: str) -> None:
        self.number += 1
        self.console.print(f"[bold cyan]{self.number:>2}.[/] {what}: [green]{detail}[/]")
