"""Subject access (DPA 2018 s.45): the data protection officer exports everything held about a
person, opened, from the services that hold it, with the record of who has looked at it; the
export is itself recorded; a person erased reads as erased."""

import asyncio
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civil_orders.drills.demo import accept, grant, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from schemas import dates
from schemas.personal import ERASED
from services.application.domain_dates import years_after
from tests.commands import cli
from tests.e2e.test_erasure import (
    breach_alerted,
    flagged_as_suspect,
    person,
    referred_by_staff,
)
from tests.web import Web, as_

TODAY = dates.today()


async def listed(client: Client, service: str, path: str, reference: str) -> None:
    async def shown() -> bool:
        return bool(await client.every(service, path, {"order_reference": reference}))

    await eventually(shown, 30, f"{reference} in the {service} service's {path}")


async def logged(auditor: Web, what: str, by: str = "dpo-1") -> None:
    async def found() -> bool:
        response = await auditor.request("GET", "/api/access-log", params={"username": by})
        return any(entry["what"] == what for entry in response.json())

    await eventually(found, 15, f"{what!r} in the access log")


async def no_order_in_force(client: Client, nominal: str, reference: str) -> None:
    """Until the referral service has seen the order made, and then end."""

    async def ended() -> bool:
        body = {"nominal_id": nominal}
        held = await client.http.post(f"{client.urls['referral']}/subjects/access", json=body)
        links = await client.get("referral", f"/subjects/{nominal}/open-casework")
        return reference in held.json()["orders"] and reference not in str(links.json())

    await eventually(ended, 30, f"the referral service to know {reference} has ended")


def erase_with_cli(stack: Stack, nominal: str) -> Any:
    reason = ["--reason", "MoPI review: no longer necessary"]
    return cli(stack, "erase", nominal, *reason, "--data-dir", str(stack.data_dir))


def export_with_cli(stack: Stack, nominal: str, out: Path) -> Any:
    stack.describe()  # so the command line finds this stack
    args = ["subject-access", nominal, "--out", str(out), "--purpose", "SAR-2026-014"]
    return cli(stack, *args, "--data-dir", str(stack.data_dir))


async def test_a_data_protection_officer_exports_all_that_is_held_about_a_person_opened(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    someone = person()
    # referred by staff, an application, an order (ended a year ago), a breach and its alert
    referral_id = await referred_by_staff(client, someone)
    application = await accept(client, referral_id)
    made_on, ended_on = years_after(TODAY, -3), years_after(TODAY, -1)
    reference = await grant(client, application["id"], made_on=made_on, ends_on=ended_on)
    await team_managing(client, reference)
    breach_at = datetime.combine(years_after(TODAY, -2), datetime.min.time(), UTC)
    await client.publish(Synthetic(seed=903).breach("north", reference, occurred_at=breach_at))
    await breach_alerted(client, reference)
    # and flagged as the suspect of a crime a district closed
    candidate = await flagged_as_suspect(client, someone, offence="synthetic exposure")
    # a caseworker looks at the referral, for a stated purpose
    caseworker = await as_(client, "cw-1")
    looked = await caseworker.request(
        "GET", f"/api/referrals/{referral_id}", params={"purpose": "triage of a new referral"}
    )
    assert looked.status_code == 200
    for service, path in (("readmodels", "/breaches"), ("notification", "/alerts")):
        await listed(client, service, path, reference)

    exported = await asyncio.to_thread(export_with_cli, stack, someone["nominal_id"], tmp_path)
    held = json.loads((tmp_path / "subject-access.json").read_text())

    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert held["subject"]["erased"] is None
    [referral] = held["referrals"]
    assert referral["subject"] == someone and someone["name"] in referral["grounds"]
    assert [a["id"] for a in held["applications"]] == [application["id"]]
    assert held["applications"][0]["legal_test"]["necessity"].startswith("Synthetic")
    assert [o["reference"] for o in held["orders"]] == [reference]
    [registered] = held["order_register"]  # ended, and still held
    assert (registered["order_reference"], registered["in_force"]) == (reference, False)
    assert registered["terms"] and "sealed:" not in str(registered["terms"])  # opened
    [breach] = held["breaches"]
    assert breach["subject_nominal_id"] == someone["nominal_id"]
    assert breach["condition_breached"] not in ("", ERASED)
    assert held["alerts"] and {a["order_reference"] for a in held["alerts"]} == {reference}
    [disposal] = held["disposals_screened"]
    assert disposal["crime_reference"] == candidate["crime_reference"]
    [flagged] = held["candidates"]
    assert flagged["offence"] == "synthetic exposure"
    # who has looked: the caseworker's look, and this export itself
    looks = [(look["username"], look["what"], look["purpose"]) for look in held["access_log"]]
    assert ("cw-1", "referral", "triage of a new referral") in looks
    assert looks[0] == ("dpo-1", "subject access export", "SAR-2026-014")
    assert held["access_log"][0]["exported"] is True
    # and auditors see the export in the access log
    auditor = await as_(client, "aud-1")
    await logged(auditor, "subject access export")

    # a part restricted under the law-enforcement exemptions is left out, and why recorded
    dpo = await as_(client, "dpo-1")
    why = "would prejudice an ongoing investigation"
    restricted = {"nominal_id": someone["nominal_id"], "purpose": "SAR-2026-014, restricted",
                  "withheld": [{"section": "breaches", "reason": why}]}  # fmt: skip
    given = (await dpo.request("POST", "/api/subjects/access", json=restricted)).json()

    assert given["breaches"] == [] and given["alerts"]
    assert given["withheld"] == [{"section": "breaches", "reason": why}]
    await logged(auditor, f"subject access export; withheld: breaches ({why})")

    # erased by a manager on the command line once the order has ended: the disposal is in
    # the access log, and the person then reads as erased
    await no_order_in_force(client, someone["nominal_id"], reference)
    erased = await asyncio.to_thread(erase_with_cli, stack, someone["nominal_id"])
    assert erased.returncode == 0, erased.stdout + erased.stderr
    await logged(auditor, "disposal of personal data", by="mgr-1")
    body = {"nominal_id": someone["nominal_id"], "purpose": "SAR-2026-014, after disposal"}
    after = (await dpo.request("POST", "/api/subjects/access", json=body)).json()

    assert after["subject"]["erased"]["by"] == "manager:mgr-1"
    assert after["referrals"][0]["subject"]["name"] == ERASED
    assert after["referrals"][0]["grounds"] == ERASED
    assert someone["name"].split()[-1] not in json.dumps(after)


async def test_nothing_is_exported_about_someone_of_whom_nothing_is_held(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    nobody = f"SYN-NOBODY-{secrets.token_hex(4)}"
    dpo = await as_(client, "dpo-1")
    body = {"nominal_id": nobody, "purpose": "SAR-2026-015"}

    response = await dpo.request("POST", "/api/subjects/access", json=body)
    shown = await asyncio.to_thread(export_with_cli, stack, nobody, tmp_path)

    assert response.status_code == 404
    assert "no personal data is held about that person" in response.json()["detail"]
    assert shown.returncode == 1
    assert shown.stdout.strip().splitlines()[-1] == "no personal data is held about that person"
    assert not (tmp_path / "subject-access.json").exists()


async def test_only_the_data_protection_officer_may_export_a_person(client: Client) -> None:
    manager = await as_(client, "mgr-1")
    body = {"nominal_id": "SYN-ANYONE", "purpose": "curiosity"}

    response = await manager.request("POST", "/api/subjects/access", json=body)

    assert response.status_code == 403


async def test_a_person_recorded_wrongly_is_corrected_everywhere_their_casework_holds_them(
    client: Client,
) -> None:
    someone = person()
    referral_id = await referred_by_staff(client, someone)
    application = await accept(client, referral_id)
    dpo, auditor = await as_(client, "dpo-1"), await as_(client, "aud-1")
    corrected = {"nominal_id": someone["nominal_id"], "date_of_birth": "1971-03-04",
                 "reason": "date of birth mistyped by the district"}  # fmt: skip

    nothing = await dpo.request(
        "POST", "/api/subjects/rectify", json=corrected | {"date_of_birth": None}
    )
    manager = await (await as_(client, "mgr-1")).request(
        "POST", "/api/subjects/rectify", json=corrected
    )
    done = await dpo.request("POST", "/api/subjects/rectify", json=corrected)
    again = await dpo.request("POST", "/api/subjects/rectify", json=corrected)
    unknown = await dpo.request(
        "POST", "/api/subjects/rectify", json=corrected | {"nominal_id": "SYN-NOBODY-X"}
    )

    assert nothing.status_code == 422 and "corrected name, date of birth" in nothing.text
    assert manager.status_code == 403
    assert done.status_code == 200, done.text
    assert done.json()["referrals"] == [referral_id]
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]
    assert unknown.status_code == 404

    async def corrected_in_the_application() -> dict[str, Any] | None:
        held = (await client.get("application", f"/applications/{application['id']}")).json()
        return held if held["subject"]["date_of_birth"] == "1971-03-04" else None

    held = await eventually(corrected_in_the_application, 30, "the application corrected")
    assert held["subject"]["name"] == someone["name"]
    body = {"nominal_id": someone["nominal_id"], "purpose": "SAR-2026-016"}
    export = (await dpo.request("POST", "/api/subjects/access", json=body)).json()
    [referral] = export["referrals"]
    assert referral["subject"]["date_of_birth"] == "1971-03-04"
    assert export["applications"][0]["subject"]["date_of_birth"] == "1971-03-04"
    await logged(auditor, "rectification of personal data")
