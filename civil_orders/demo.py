"""The thin path, end to end, with synthetic people: referral to order to alerts."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.console import Console

from civil_orders.client import Client, eventually
from civil_orders.synthetic import Synthetic

CASEWORKER = "caseworker:cw-demo"
LEGAL = "legal-services:ls-demo"


@dataclass
class DemoResult:
    referral_id: str
    application_id: str
    order_reference: str
    team: str
    alerts: list[dict[str, Any]]
    dead_letter_reason: str | None


async def run_demo(client: Client, console: Console, district: str = "north") -> DemoResult:
    people = Synthetic()
    step = _Steps(console)

    referral = people.referral(district)
    ref = referral.payload.district_reference
    step("District system publishes a referral", f"{ref} on district.referrals.v1")
    await client.publish(referral)
    recorded = await client.found("referral", f"/referrals/by-reference/{district}/{ref}")
    step("Referral service recorded it", f"referral {recorded['id']}, status {recorded['status']}")

    await client.command("referral", f"/referrals/{recorded['id']}/review", CASEWORKER)
    await client.command("referral", f"/referrals/{recorded['id']}/accept", CASEWORKER)
    step("Caseworker reviewed and accepted it", CASEWORKER)

    application = await client.found("application", f"/applications/by-referral/{recorded['id']}")
    step("Application service opened an application", f"{application['id']} ({application['order_type']})")

    made_on = date.today()
    granted = await client.command(
        "application",
        f"/applications/{application['id']}/grant",
        LEGAL,
        {
            "court": "Northtown Magistrates' Court",
            "made_on": made_on.isoformat(),
            "ends_on": (made_on + timedelta(days=2 * 365 + 1)).isoformat(),
            "terms": [
                {
                    "kind": "prohibition",
                    "wording": "Not to have unsupervised contact with any child under 16.",
                }
            ],
        },
    )
    reference = granted["order_reference"]
    step("Court granted the order; legal services recorded it", reference)

    team = await _team_known_to_breach_service(client, reference)
    alerts = await _alerts_for(client, team, reference, count=1)
    step(f"MOSOVO team {team} alerted", _describe(alerts[-1]))

    breach = people.breach(district, reference)
    await client.publish(breach)
    step("District system reported a breach", breach.payload.report_reference)
    alerts = await _alerts_for(client, team, reference, count=2)
    step(f"MOSOVO team {team} alerted again", _describe(alerts[-1]))

    reason = await _malformed_referral(client, people, district)
    step("A malformed referral was dead-lettered; the next good one was processed", reason)
    return DemoResult(recorded["id"], application["id"], reference, team, alerts, reason)


async def _alerts_for(client: Client, team: str, reference: str, count: int) -> list[dict[str, Any]]:
    async def attempt() -> list[dict[str, Any]] | None:
        response = await client.get("team-inbox", f"/teams/{team}/alerts")
        mine = [a for a in response.json() if a["alert"]["order_reference"] == reference]
        return mine if len(mine) >= count else None

    return await eventually(attempt, 30, f"{count} alert(s) for {reference} at {team}")


async def _team_known_to_breach_service(client: Client, reference: str) -> str:
    async def attempt() -> str | None:
        response = await client.get("breach", f"/orders/{reference}")
        return response.json()["team"] if response.status_code == 200 else None

    return await eventually(attempt, 30, f"the breach service to know {reference}")


async def _malformed_referral(client: Client, people: Synthetic, district: str) -> str:
    before = {letter.id for letter in await client.dead_letters()}
    await client.publish_raw("district.referrals.v1", b'{"event_type": "DistrictReferral"}')
    good = people.referral(district)
    await client.publish(good)
    ref = good.payload.district_reference
    await client.found("referral", f"/referrals/by-reference/{district}/{ref}")

    async def attempt() -> str | None:
        new = [letter for letter in await client.dead_letters() if letter.id not in before]
        return new[0].reason if new else None

    return await eventually(attempt, 30, "the malformed referral in the dead-letter table")


def _describe(received: dict[str, Any]) -> str:
    alert = received["alert"]
    return f"{alert['kind']}: {alert['order_reference']} {alert['link']}"


class _Steps:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.number = 0

    def __call__(self, what: str, detail: str) -> None:
        self.number += 1
        self.console.print(f"[bold cyan]{self.number:>2}.[/] {what}: [green]{detail}[/]")
