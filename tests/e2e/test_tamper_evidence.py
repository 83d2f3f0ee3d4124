"""Tamper evidence: each service's stored events form a hash chain, checked read-only."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from civil_orders.drills.demo import accept, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack
from plumbing.chain import content_hash, events_table, install, verify, verify_chain
from plumbing.settings import EVENT_STORES
from tests.commands import cli

AUDITOR = "chain_auditor"
USAGE = sql.SQL("GRANT USAGE ON SCHEMA {} TO {}")
SELECT = sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}")
# The grounds are sealed with the subject's key, so it is a plain field that is rewritten (a
# sealed one altered breaks the chain alike, and is refused when opened)
MOVED = (
    "convert_to(replace(convert_from(state, 'UTF8'), '\"district\":\"north\"',"
    " '\"district\":\"south\"'), 'UTF8')"
)


def superuser(stack: Stack) -> psycopg.Connection[Any]:
    return psycopg.connect(stack.database_url, autocommit=True)


def events_of(service: str) -> sql.Identifier:
    return sql.Identifier(service, events_table(service))


@pytest.fixture(scope="module")
def auditor(stack: Stack) -> str:
    """A database URL for a role that may only look: USAGE on the schemas, SELECT on tables."""
    with superuser(stack) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (AUDITOR,)).fetchone():
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(AUDITOR), sql.Literal("auditor-synthetic")
                )
            )
        for service in EVENT_STORES:
            for grant in (USAGE, SELECT):
                conn.execute(grant.format(sql.Identifier(service), sql.Identifier(AUDITOR)))
    return make_conninfo(stack.database_url, user=AUDITOR, password="auditor-synthetic")


async def received_event(stack: Stack, client: Client, seed: int) -> int:
    """Refer a case; the notification id of the referral service's Received event for it."""
    referral = await refer(client, Synthetic(seed=seed), "north")
    with superuser(stack) as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT notification_id FROM {} WHERE originator_id = %s AND originator_version = 1"
            ).format(events_of("referral")),
            (UUID(referral["id"]),),
        ).fetchone()
    assert row is not None
    return int(row[0])


@contextmanager
def district_moved(stack: Stack, notification_id: int) -> Iterator[None]:
    """Someone with write access rewrites a stored referral's district; put back afterwards."""
    table = events_of("referral")
    where = sql.SQL(" WHERE notification_id = %s")
    with superuser(stack) as conn:
        select = sql.SQL("SELECT state FROM {}").format(table) + where
        [original] = conn.execute(select, (notification_id,)).fetchone() or [b""]
        update = sql.SQL("UPDATE {} SET state = " + MOVED).format(table) + where
        conn.execute(update, (notification_id,))
        assert conn.execute(select, (notification_id,)).fetchone() != (original,)
        try:
            yield
        finally:
            conn.execute(
                sql.SQL("UPDATE {} SET state = %s").format(table) + where,
                (original, notification_id),
            )


def test_the_encoding_delimits_every_field() -> None:
    who = uuid4()

    assert content_hash(who, 1, "ab", b"c") != content_hash(who, 1, "a", b"bc")
    assert content_hash(who, 1, None, b"") != content_hash(who, 1, "", b"")
    assert content_hash(who, 1, "t", b"s") == content_hash(who, 1, "t", b"s")


async def test_after_real_casework_every_chain_verifies_intact(
    stack: Stack, client: Client, auditor: str
) -> None:
    await accept(client, (await refer(client, Synthetic(seed=61), "north"))["id"])

    reports = {report.service: report for report in verify(auditor)}
    shown = cli(stack, "verify", "chains", "--database-url", auditor)

    assert list(reports) == list(EVENT_STORES)
    assert all(report.intact for report in reports.values()), reports
    assert reports["referral"].events_checked > 0 and reports["application"].events_checked > 0
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "intact" in shown.stdout and "broken" not in shown.stdout


async def test_an_altered_event_is_the_first_break_at_its_notification_id(
    stack: Stack, client: Client, auditor: str
) -> None:
    altered = await received_event(stack, client, seed=62)

    with district_moved(stack, altered):
        reports = {report.service: report for report in verify(auditor)}
        shown = cli(stack, "verify", "chains", "--database-url", auditor)

    broken = reports["referral"].first_break
    assert broken is not None
    assert (broken.notification_id, broken.originator_version, broken.wrong) == (
        altered,
        1,
        "content",
    )
    assert all(reports[s].intact for s in ("application", "breach", "notification"))
    assert shown.returncode == 1
    assert "broken" in shown.stdout
    assert verify(auditor, ["referral"])[0].intact  # the original bytes are back


async def test_an_event_stored_after_an_altered_one_does_not_hide_the_break(
    stack: Stack, client: Client, auditor: str
) -> None:
    altered = await received_event(stack, client, seed=63)

    with district_moved(stack, altered):
        later = await received_event(stack, client, seed=64)
        [report] = verify(auditor, ["referral"])

    assert later > altered
    assert report.first_break is not None
    assert report.first_break.notification_id == altered


def test_the_auditor_role_can_verify_but_cannot_write(stack: Stack, auditor: str) -> None:
    with psycopg.connect(auditor) as conn:
        report = verify_chain(conn, "referral")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("DELETE FROM {}").format(events_of("referral")))

    assert report.intact


def test_events_stored_before_the_chain_existed_are_hashed_when_it_is_installed(
    stack: Stack,
) -> None:
    schema = "chain_scratch"
    table = sql.Identifier(schema, events_table(schema))
    insert = sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) VALUES ")
    first = uuid4()

    def install_on(conn: psycopg.Connection[Any]) -> None:
        with conn.transaction(), conn.cursor() as cursor:
            install(cursor, schema, events_table(schema))

    with superuser(stack) as conn, superuser(stack) as other:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint"
                    " NOT NULL, topic text, state bytea, notification_id bigserial,"
                    " PRIMARY KEY (originator_id, originator_version))"
                ).format(table)
            )
            # three events stored before the chain, then two replicas install it at once
            rows = sql.SQL("(%s, 1, 't', 'a'), (%s, 1, NULL, ''), (%s, 2, 't', NULL)")
            conn.execute(insert.format(table) + rows, (first, uuid4(), first))
            with ThreadPoolExecutor(2) as replicas:
                list(replicas.map(install_on, (conn, other)))
            backfilled = verify_chain(other, schema)
            # two more in one statement, through the trigger; installing again changes nothing
            rows = sql.SQL("(%s, 3, 't', 'b'), (%s, 4, 't', 'c')")
            conn.execute(insert.format(table) + rows, (first, first))
            install_on(conn)
            extended = verify_chain(other, schema)
            # an event taken out: the one after it no longer follows its predecessor
            conn.execute(sql.SQL("DELETE FROM {} WHERE notification_id = 2").format(table))
            gapped = verify_chain(other, schema)
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    assert (backfilled.events_checked, backfilled.intact) == (3, True)
    assert (extended.events_checked, extended.intact) == (5, True)
    assert gapped.first_break is not None
    assert (gapped.first_break.notification_id, gapped.first_break.wrong) == (3, "link")
