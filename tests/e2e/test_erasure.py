"""Crypto-shredding, end to end: a person's details are sealed with their key everywhere they
are written, and once the key is destroyed nothing anywhere reads them, while the history,
its hash chains, the read models and the figures stay whole."""

import asyncio
import base64
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from civil_orders.cli import app
from civil_orders.drills.demo import CASEWORKER, accept, alerts_for, grant, refer, team_managing
from civil_orders.drills.synthetic import Synthetic
from civil_orders.operations.projections import named, verify_projections
from civil_orders.operations.scan import disposal_envelope
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack, running_stack
from plumbing.chain import verify
from plumbing.personal import PersonalData
from plumbing.settings import Settings
from schemas import dates
from schemas.district import DistrictDisposal, VictimAgeBand
from schemas.personal import ERASED
from services.application.domain_dates import years_after
from tests.commands import cli
from tests.conftest import FAST_ALERTS


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own (the session's `client` uses it here), so that the people erased
    here are in no other test's history."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAST_ALERTS.items():
            env.setenv(name, value)
        with running_stack(Path(tmp_path_factory.mktemp("erasing")), usual_ports=False) as own:
            yield own


TODAY = dates.today()
MANAGER = "manager:mgr-1"
QUIET = Console(quiet=True)


def person() -> dict[str, Any]:
    """Someone no other test names: a surname, a date of birth and a nominal of their own."""
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(5 * 365))
    surname = f"Quillfeather{secrets.token_hex(3)}"
    return {
        "nominal_id": f"SYNE{secrets.token_hex(5).upper()}",
        "name": f"Ives {surname}",
        "date_of_birth": born.isoformat(),
    }


def traces(someone: dict[str, Any]) -> list[str]:
    """What would give the person away: their surname, date of birth and nominal."""
    return [someone["name"].split()[-1], someone["date_of_birth"], someone["nominal_id"]]


async def referred_by_staff(client: Client, someone: dict[str, Any]) -> str:
    """A district referrer refers the person through the staff form; the referral's id."""
    body = {
        "district": "north",
        "district_reference": f"NTH-E-{secrets.token_hex(4)}",
        "referring_officer": "PC 4242 (synthetic)",
        "subject": someone,
        "order_sought": "SRO",
        "grounds": f"Synthetic grounds about {someone['name']}: approaches to children.",
        "crime_references": ["CR/77/26"],
    }
    return str((await client.command("referral", "/referrals", "referrer:ref-north", body))["id"])


async def erase(client: Client, someone: dict[str, Any]) -> Any:
    body = {"nominal_id": someone["nominal_id"], "reason": "MoPI review: risk no longer held"}
    url = f"{client.urls['referral']}/subjects/erase"
    return await client.http.post(url, json=body, headers={"X-Actor": MANAGER})


async def erased_once_the_order_has_ended(client: Client, someone: dict[str, Any]) -> Any:
    """Erase as soon as the referral service has seen the order end (until then, refused)."""

    async def attempt() -> Any:
        response = await erase(client, someone)
        return response.json() if response.status_code == 200 else None

    return await eventually(attempt, 30, "the person to be erasable")


async def flagged_as_suspect(
    client: Client, someone: dict[str, Any], offence: str = "synthetic sexual offence"
) -> dict[str, Any]:
    """A district closes a crime with the person as suspect and screening flags them: the
    candidate raised."""
    crime = f"CR/E/{secrets.token_hex(4)}"
    disposal = DistrictDisposal(
        district="north",
        crime_reference=crime,
        outcome_code="15",
        offence=offence,
        offence_category="sexual offence",
        sexual_offence=True,
        suspect_nominal_id=someone["nominal_id"],
        victim_age_band=VictimAgeBand.UNDER_13,
        disposed_on=TODAY - timedelta(days=20),
    )
    await client.publish(disposal_envelope(disposal, "erasure-test"))

    async def flagged() -> list[dict[str, Any]] | None:
        found = await client.every("referral", "/candidates", {"crime_reference": crime})
        return found or None

    [candidate] = await eventually(flagged, 30, f"a candidate for {crime}")
    return candidate


async def scanned_and_promoted(client: Client, someone: dict[str, Any]) -> str:
    """A district closes a crime with the person as suspect; screening flags them and a
    caseworker promotes the candidate to a referral. The referral's id."""
    candidate = await flagged_as_suspect(client, someone)
    assert candidate["suspect_nominal_id"] == someone["nominal_id"]  # opened for the caseworker
    promote = {"subject": someone, "order_sought": "SRO", "grounds": "Synthetic: scan."}
    path = f"/candidates/{candidate['candidate_id']}/promote"
    return str((await client.command("referral", path, CASEWORKER, promote))["referral_id"])


async def rows_naming(database_url: str, text: str) -> list[str]:
    """Every table of every schema whose rows, as text, hold `text` (bytea as hex too)."""
    connection = await asyncpg.connect(database_url)
    try:
        tables = await connection.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE'
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        )
        found = []
        for schema, table in tables:
            hits = await connection.fetchval(
                f"""SELECT count(*) FROM "{schema}"."{table}" t
                    WHERE t::text ILIKE '%' || $1 || '%' OR t::text ILIKE '%' || $2 || '%'""",
                text, text.encode().hex(),
            )  # fmt: skip
            if hits:
                found.append(f"{schema}.{table}")
        return found
    finally:
        await connection.close()


async def topics_naming(bootstrap_servers: str, texts: list[str]) -> dict[str, set[str]]:
    """For each text, the topics holding a message (key, value or header) with it, read from
    the beginning of every partition of every topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(await admin.list_topics())
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], p["partition"])
        for topic in described
        for p in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
    await consumer.start()
    found: dict[str, set[str]] = {text: set() for text in texts}
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [p for p, end in ends.items() if await consumer.position(p) < end]:
            for partition, messages in (await consumer.getmany(timeout_ms=1000)).items():
                for message in messages:
                    headers = [value for _, value in message.headers]
                    raw = b"".join([message.key or b"", message.value or b"", *headers])
                    for text in texts:
                        if text.encode() in raw:
                            found[text].add(partition.topic)
    finally:
        await consumer.stop()
    return found


def files_naming(folder: Path, pattern: str, text: str) -> list[str]:
    return [str(p) for p in folder.rglob(pattern) if text.encode() in p.read_bytes()]


async def audit_export(stack: Stack, referral_id: str, folder: Path) -> str:
    def run() -> Any:
        args = ["audit", "case", referral_id, "--database-url", stack.database_url]
        return CliRunner().invoke(app, [*args, "--export", str(folder)])

    shown = await asyncio.to_thread(run)
    assert shown.exit_code == 0, shown.output
    return str(shown.output)


async def breach_alerted(client: Client, reference: str) -> None:
    async def alerted() -> bool:
        alerts = await alerts_for(client, "mosovo-north", reference, count=1)
        return any("breach" in a["alert"]["kind"] for a in alerts)

    await eventually(alerted, 30, f"the team to be alerted of a breach of {reference}")


async def order_ended_in_the_register(client: Client, reference: str) -> None:
    async def ended() -> bool:
        params = {"order_reference": reference, "include_ended": "true"}
        return [o["in_force"] for o in await client.every("readmodels", "/orders", params)] == [
            False
        ]

    await eventually(ended, 30, f"{reference} to have ended in the register")


async def breach_register_masks(client: Client, reference: str) -> list[tuple[str, str]]:
    """The order's breaches as the register shows them, once it no longer holds the destroyed
    key (every process forgets it within PERSONAL_KEY_CACHE_SECONDS)."""

    async def masked() -> list[tuple[str, str]] | None:
        params = {"order_reference": reference}
        rows = await client.every("readmodels", "/breaches", params)
        shown = [(b["subject_nominal_id"], b["condition_breached"]) for b in rows]
        return shown if shown and all(ERASED in row for row in shown) else None

    return await eventually(masked, 15, f"the breach register to mask {reference}")


async def declined_in_the_read_models(client: Client, referral_id: str) -> None:
    async def declined() -> bool:
        trail = await client.get("readmodels", f"/cases/{referral_id}/events")
        shown = trail.json() if trail.status_code == 200 else []
        return any(e["payload"].get("status") == "declined" for e in shown)

    await eventually(declined, 30, f"the read models to know {referral_id} is declined")


async def evaluation(client: Client) -> Any:
    since = years_after(TODAY, -5).isoformat()
    params = {"start": since, "end": TODAY.isoformat()}
    return (await client.get("readmodels", "/evaluation", params)).json()


async def referral_service_knows(client: Client, nominal: str, what: str) -> None:
    async def known() -> bool:
        response = await client.get("referral", f"/subjects/{nominal}/open-casework")
        return any(what in link for link in response.json()["links"])

    await eventually(known, 30, f"the referral service to know of {what}")


async def test_a_person_subject_to_an_order_in_force_cannot_be_erased(
    stack: Stack, client: Client
) -> None:
    referral = await refer(client, Synthetic(seed=901), "north")
    application = await accept(client, referral["id"])
    reference = await grant(client, application["id"])  # in force for two years
    nominal = (await client.get("referral", f"/referrals/{referral['id']}")).json()[
        "subject_nominal_id"
    ]
    await referral_service_knows(client, nominal, reference)
    stack.describe()  # so the command line finds this stack

    refused = await asyncio.to_thread(
        cli, stack, "erase", nominal, "--reason", "asked", "--data-dir", str(stack.data_dir)
    )
    still = (await client.get("referral", f"/referrals/{referral['id']}")).json()

    assert refused.returncode == 1
    assert "order in force" in refused.stdout and reference in refused.stdout
    assert still["subject_nominal_id"] == nominal


async def test_nobody_is_erased_who_is_not_known(client: Client) -> None:
    response = await erase(client, {"nominal_id": f"SYNE-UNKNOWN-{secrets.token_hex(4)}"})

    assert response.status_code == 404


@pytest.mark.timeout(240)
async def test_once_erased_a_person_is_nowhere_in_plain_text_and_the_history_still_holds(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    people = Synthetic(seed=902)
    someone, suspect = person(), person()
    # referral by staff, application, an order made three years ago that ended a year ago,
    # a breach while it was in force, the team's alerts
    referral_id = await referred_by_staff(client, someone)
    application = await accept(client, referral_id)
    made_on, ended_on = years_after(TODAY, -3), years_after(TODAY, -1)
    reference = await grant(client, application["id"], made_on=made_on, ends_on=ended_on)
    breach_at = datetime.combine(years_after(TODAY, -2), datetime.min.time(), UTC)
    await team_managing(client, reference)  # the breach service knows the order
    await client.publish(people.breach("north", reference, occurred_at=breach_at))
    await breach_alerted(client, reference)
    # a suspect flagged by scanning a district's disposal, promoted to a referral
    suspect_referral = await scanned_and_promoted(client, suspect)
    # sealed while they live: the details open for those who need them
    read = (await client.get("referral", f"/referrals/{referral_id}")).json()
    assert read["subject_nominal_id"] == someone["nominal_id"]
    # the suspect's referral is open casework until a caseworker declines it
    open_referral = await erase(client, suspect)
    declined = {"reason": "insufficient evidence", "detail": "Synthetic: no risk found."}
    await client.command("referral", f"/referrals/{suspect_referral}/decline", CASEWORKER, declined)
    await order_ended_in_the_register(client, reference)
    await declined_in_the_read_models(client, suspect_referral)
    before = await evaluation(client)

    erased = await erased_once_the_order_has_ended(client, someone)
    assert (await erase(client, suspect)).status_code == 200
    again = await erase(client, someone)

    assert erased["key_id"] and again.status_code == 409
    assert open_referral.status_code == 409 and "open referral" in open_referral.json()["detail"]
    assert "already been erased" in again.json()["detail"]
    # the history still replays, every detail of theirs now erased
    replayed = (await client.get("referral", f"/referrals/{referral_id}")).json()
    assert (replayed["subject_nominal_id"], replayed["status"]) == (ERASED, "accepted")
    assert await breach_register_masks(client, reference) == [(ERASED, ERASED)]
    shown = await audit_export(stack, referral_id, tmp_path)
    assert ERASED in shown
    suspect_read = (await client.get("referral", f"/referrals/{suspect_referral}")).json()
    assert suspect_read["subject_nominal_id"] == ERASED
    # and nothing anywhere reads them: every table, log file, the audit export, every topic
    assert await rows_naming(stack.database_url, reference)  # the searches do find things
    assert list(stack.data_dir.glob("*.log")) and list(tmp_path.iterdir())
    for text in traces(someone) + traces(suspect):
        assert await rows_naming(stack.database_url, text) == [], text
        assert files_naming(stack.data_dir, "*.log", text) == [], text
        assert files_naming(tmp_path, "*", text) == [], text
    on_topics = await topics_naming(stack.bootstrap_servers, traces(someone) + traces(suspect))
    assert {text: topics for text, topics in on_topics.items() if topics} == {
        # the district's own disposal message, as its system sent it, and nothing else
        suspect["nominal_id"]: {"district.disposals.v1"}
    }
    # the chains verify, the read models equal a replay, the figures are unchanged
    chains = cli(stack, "verify", "chains", "--database-url", stack.database_url)
    assert chains.returncode == 0 and "broken" not in chains.stdout, chains.stdout
    assert all(report.intact for report in verify(stack.database_url))
    assert await verify_projections(stack.database_url, stack.urls(), named([]), QUIET) == []
    assert await evaluation(client) == before
    # an outbox made again from the history holds what can no longer be sealed as erased
    stack.stop("application")
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE application.outbox")
    stack.start("application")
    feed = (await client.get("application", "/events", {"limit": 5000})).json()["events"]
    [remade] = [
        e["event"]["payload"]
        for e in feed
        if e["event"]["event_type"] == "OrderGranted"
        and e["event"]["payload"]["order_reference"] == reference
    ]
    assert (remade["subject_nominal_id"], remade["terms"][0]["wording"]) == (ERASED, ERASED)


async def test_rotating_the_master_key_rewraps_every_key_which_then_opens_with_it_alone(
    stack: Stack,
) -> None:
    """On a database of its own: the stack's services know only the first master key."""
    old, new = Settings.model_fields["personal_data_master_keys"].default, secrets.token_bytes(32)
    newest = f"2:{base64.b64encode(new).decode()}"
    url = await scratch_database(stack.database_url)
    before = PersonalData.from_settings(scratch_settings(url, old.get_secret_value()))
    try:
        sealed = before.sealed_for("SYN-ROT-1", "Synthetic Person")
    finally:
        before.close()

    env = {**stack.env(), "PERSONAL_DATA_MASTER_KEYS": f"{old.get_secret_value()},{newest}"}
    command = [sys.executable, "-m", "civil_orders", "keys", "rotate", "--database-url", url]
    rotated = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    after = PersonalData.from_settings(scratch_settings(url, newest), create=False)
    try:
        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        assert "1 key(s) re-wrapped under master key 2" in rotated.stdout
        assert after.open_json(sealed) == "Synthetic Person"
    finally:
        after.close()


async def scratch_database(database_url: str) -> str:
    name = f"keys_{secrets.token_hex(6)}"
    server = await asyncpg.connect(database_url)
    try:
        await server.execute(f"CREATE DATABASE {name}")
    finally:
        await server.close()
    return urlsplit(database_url)._replace(path=f"/{name}").geturl()


def scratch_settings(url: str, master_keys: str) -> Settings:
    return Settings(
        database_url=url,
        kafka_bootstrap_servers="(not used)",
        personal_data_master_keys=SecretStr(master_keys),
    )


async def test_a_person_referred_again_after_erasure_is_a_new_record_under_a_new_key(
    client: Client,
) -> None:
    someone = person()
    first = await referred_by_staff(client, someone)
    declined = {"reason": "insufficient evidence", "detail": "Synthetic: no risk found."}
    await client.command("referral", f"/referrals/{first}/decline", CASEWORKER, declined)
    erased = await erase(client, someone)
    assert erased.status_code == 200, erased.text

    # years later, a new allegation: the same person is referred, and flagged by screening
    again = await referred_by_staff(client, someone)
    candidate = await flagged_as_suspect(client, someone)

    now = (await client.get("referral", f"/referrals/{again}")).json()
    before = (await client.get("referral", f"/referrals/{first}")).json()
    assert now["subject_nominal_id"] == someone["nominal_id"]
    assert candidate["suspect_nominal_id"] == someone["nominal_id"]
    assert before["subject_nominal_id"] == ERASED  # what was erased stays erased
    refused = [d for d in await client.dead_letters() if someone["nominal_id"] in d.value.decode()]
    assert refused == []
