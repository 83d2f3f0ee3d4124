"""Proactive scanning of a disposal backlog, through the real broker and database."""

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack
from schemas import dates
from services.referral.domain import ReviewGroup, SubjectRecord
from tests.web import as_


def backlog(run: str) -> list[dict[str, object]]:
    def row(crime: str, suspect: str | None, **fields: object) -> dict[str, object]:
        return {
            "district": "north",
            "crime_reference": f"CR/{run}/{crime}",
            "outcome_code": "15",
            "offence": "synthetic offence",
            "offence_category": "sexual offence",
            "sexual_offence": True,
            "suspect_nominal_id": f"SYN{run}{suspect}" if suspect else None,
            "victim_age_band": "adult",
            "disposed_on": "2026-01-10",
            **fields,
        }

    return [
        row("A1", "A", victim_age_band="13 to 15"),  # 3 + child 3: flagged
        row("B2", "B", offence_category="exposure", disposed_on="2026-07-01"),  # 2 + repeat 3
        row("B1", "B", offence_category="voyeurism", sexual_offence=True),  # 2: not flagged
        row("C1", "C", offence_category="criminal damage", sexual_offence=False),  # 0
        row("D1", "D", outcome_code="1"),  # charged: not screened
        row("N1", None, outcome_code="18"),  # no suspect
        row("E1", "E", offence_category="online child sexual abuse", outcome_code="21"),  # 4
        row("A1", "F", victim_age_band="13 to 15"),  # the same crime's second suspect: flagged
        row("X1", "X", outcome_code="not a code"),  # refused, by line
    ]


def scan(stack: Stack, path: Path) -> subprocess.CompletedProcess[str]:
    stack.describe()  # so the command finds this stack
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "civil_orders",
            "scan",
            "--from",
            str(path),
            "--data-dir",
            str(stack.data_dir),
        ],
        env={**stack.env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_backlog_flags_the_expected_suspects_and_a_rescan_flags_nothing_new(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    run = uuid4().hex[:6].upper()
    path = tmp_path / "disposals.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in backlog(run)) + "\n")

    first = scan(stack, path)

    assert first.returncode == 1, first.stderr  # one row was refused
    assert "disposals.jsonl line 9: outcome_code: String should match pattern" in first.stdout
    assert "Screened 8 disposals: 4 new candidate(s)" in first.stdout
    candidates = {
        (
            c["crime_reference"].rsplit("/", 1)[1],
            c["suspect_nominal_id"].removeprefix(f"SYN{run}"),
        ): c
        for c in await client.every("referral", "/candidates")
        if f"/{run}/" in c["crime_reference"]
    }
    assert set(candidates) == {("A1", "A"), ("A1", "F"), ("B2", "B"), ("E1", "E")}
    assert candidates["B2", "B"]["rules_fired"] == [
        "offence category: exposure",
        "repeat suspect: 1 earlier within 730 days",
    ]
    admin = await as_(client, "admin-1")
    in_force = (await admin.request("GET", "/api/admin/screening-rules")).json()["version"]
    assert {c["rules_version"] for c in candidates.values()} == {in_force}
    an_hour_on = {"identified_since": (dates.now() + timedelta(hours=1)).isoformat()}
    flagged_later = await client.every("referral", "/candidates", an_hour_on)
    assert not [c for c in flagged_later if f"/{run}/" in c["crime_reference"]]
    crimes = [f"CR/{run}/{crime}" for crime in ("A1", "B1", "B2", "C1", "E1", "Z9")]
    counting = "/candidates/count"
    assert await client.query("referral", counting, {"crime_references": crimes}) == {"count": 4}
    later = {"crime_references": crimes, **an_hour_on}
    assert await client.query("referral", counting, later) == {"count": 0}
    refused = await client.http.post(f"{client.urls['referral']}{counting}", json={})
    assert refused.status_code == 422 and "crime_references" in refused.text

    # a suspect screened and not flagged is held too: their record is reviewed in its time
    caseworker = await as_(client, "cw-1")
    one_crime = {"crime_reference": f"CR/{run}/B2"}
    found = await caseworker.request("GET", "/api/candidates", params=one_crime)
    assert [c["crime_reference"] for c in found.json()] == [f"CR/{run}/B2"]
    unflagged = SubjectRecord.create_id(f"SYN{run}C")
    review = await caseworker.request(
        "GET", f"/api/reviews/{unflagged}", params={"purpose": "MoPI review"}
    )
    assert review.status_code == 200, review.text
    assert review.json()["group"] == ReviewGroup.OTHER and review.json()["due_on"]

    again = scan(stack, path)

    assert "Screened 8 disposals: 0 new candidate(s)" in again.stdout
    rescanned = [
        c
        for c in await client.every("referral", "/candidates")
        if f"/{run}/" in c["crime_reference"]
    ]
    assert len(rescanned) == 4


async def test_a_caseworker_promotes_one_candidate_to_a_referral_and_dismisses_another(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    run = uuid4().hex[:6].upper()
    path = tmp_path / "disposals.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in backlog(run)[:2]) + "\n")
    scan(stack, path)
    rows = [
        c
        for c in await client.every("referral", "/candidates", {"status": "identified"})
        if f"/{run}/" in c["crime_reference"]
    ]
    [first] = rows

    promoted = await client.command(
        "referral",
        f"/candidates/{first['candidate_id']}/promote",
        "caseworker:cw-1",
        {
            "subject": {
                "nominal_id": first["suspect_nominal_id"],
                "name": "Hollis Grisedale",
                "date_of_birth": str(date(1979, 3, 3)),
            },
            "order_sought": "SRO",
            "grounds": "Synthetic grounds: approaches to children after the disposal.",
        },
    )
    referral = (await client.get("referral", f"/referrals/{promoted['referral_id']}")).json()
    assert referral["status"] == "received"
    assert referral["district_reference"] == f"SCAN-{first['crime_reference']}"

    refused = await client.http.post(
        f"{client.urls['referral']}/candidates/{first['candidate_id']}/dismiss",
        json={"reason": "insufficient grounds", "detail": "too late"},
        headers={"X-Actor": "caseworker:cw-2"},
    )
    assert refused.status_code == 409
    assert refused.json() == {"detail": "the candidate has already been promoted"}
