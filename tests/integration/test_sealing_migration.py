"""A store written before personal data was sealed is sealed by `civil-orders migrate seal`:
a new version of the store, written by replay, leaves no plain text in any table; its chain
holds; the service runs on it and erasure works; a second run changes nothing."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql

from civil_orders.stack.embedded import start_postgres
from plumbing.chain import verify
from plumbing.migration import Store, seal_stores
from plumbing.personal import NOTHING_PERSONAL
from plumbing.settings import Settings
from schemas.common import OrderSought, ReferredSubject
from schemas.district import DistrictReferral
from schemas.personal import ERASED
from schemas.trace import Trace
from services.referral.application import ReferralService
from services.referral.domain import DeclineReason
from services.referral.main import definition

PEOPLE = [
    ("SYN-MIG-1", "Ottoline Brackwater", date(1977, 3, 14)),
    ("SYN-MIG-2", "Fennick Osgathorpe", date(1990, 11, 2)),
]
TRACE = Trace("cw-1", uuid4())
STORE = Store(ReferralService, definition.local_projections)


class UnsealedReferrals(ReferralService):
    """The referral service as a build before sealing wrote its store."""

    name = "referral"  # its store, not one of its own
    personal_fields = NOTHING_PERSONAL


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    server = start_postgres(Path(tmp_path_factory.mktemp("sealing")))
    try:
        yield Settings(database_url=server.get_uri("civil_orders"), kafka_bootstrap_servers="-")
    finally:
        server.cleanup()


def unsealed_history(settings: Settings) -> list[UUID]:
    """Two people referred, the first declined, written as an old build did; its reviews read
    model holding the nominal in plain text, as that build's did."""
    old = UnsealedReferrals(settings)
    try:
        old.keep_projections(*definition.local_projections(old))
        referrals = [old.receive_referral(referral(*p), "district:north", TRACE) for p in PEOPLE]
        declined = DeclineReason.INSUFFICIENT_EVIDENCE
        old.decline_referral(referrals[0], declined, "Synthetic: unfounded.", TRACE)
        with old.process_recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute("UPDATE referral.reviews SET subject_nominal_id = %s", (PEOPLE[0][0],))
    finally:
        old.close()
    return referrals


def referral(nominal: str, name: str, born: date) -> DistrictReferral:
    return DistrictReferral(
        district="north",
        district_reference=f"NTH-{uuid4().hex[:8]}",
        referring_officer="PC 1 (synthetic)",
        subject=ReferredSubject(nominal_id=nominal, name=name, date_of_birth=born),
        order_sought=OrderSought.SRO,
        grounds=f"Synthetic grounds about {name}.",
    )


def plain_hits(settings: Settings) -> dict[str, int]:
    """Every table of every schema searched for each person's nominal, name and date of
    birth, in text and in bytes: the hits, by table."""
    needles = [str(v) for person in PEOPLE for v in person]
    hits: dict[str, int] = {}
    with psycopg.connect(settings.database_url) as conn:
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name, data_type"
            " FROM information_schema.columns JOIN pg_tables"
            " ON schemaname = table_schema AND tablename = table_name"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table, column, kind in columns:
            bytea = kind == "bytea"
            where = "position(convert_to(n, 'UTF8') in {c})" if bytea else "strpos({c}::text, n)"
            found = conn.execute(
                sql.SQL(
                    "SELECT count(*) FROM {}.{}, unnest(%s::text[]) n WHERE " + where + " > 0"
                ).format(sql.Identifier(schema), sql.Identifier(table), c=sql.Identifier(column)),
                (needles,),
            ).fetchone()
            if found and found[0]:
                hits[f"{schema}.{table}.{column}"] = found[0]
    return hits


def store_rows(settings: Settings) -> list[Any]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT notification_id, state, chain_hash FROM referral.referral_events ORDER BY 1"
        ).fetchall()


def test_an_unsealed_store_is_sealed_by_replay_and_runs_on_as_before(settings: Settings) -> None:
    referrals = unsealed_history(settings)
    assert plain_hits(settings)  # the old build's plain text, to be found

    [dry] = seal_stores(settings, [STORE], dry_run=True)
    [sealing] = seal_stores(settings, [STORE], dry_run=False)
    sealed = store_rows(settings)

    assert (dry.plain, dry.people, dry.sealed) == (sealing.plain, 2, False)
    assert sealing.sealed and 0 < sealing.plain < sealing.events  # some hold nothing personal
    assert plain_hits(settings) == {}
    assert all(report.intact for report in verify(settings.database_url, ["referral"]))

    # the service runs on the sealed store: it reads what was stored, and erases
    service = ReferralService(settings)
    try:
        service.keep_projections(*definition.local_projections(service))
        first = service.load(referrals[0]).subject
        service.erase_subject(PEOPLE[0][0], "Synthetic: review found no need.", TRACE)
        erased = service.load(referrals[0]).subject
        other = service.load(referrals[1]).subject
    finally:
        service.close()
    assert (first.nominal_id, first.name, first.date_of_birth) == PEOPLE[0]
    assert (erased.name, erased.date_of_birth) == (ERASED, ERASED)
    assert (other.nominal_id, other.name, other.date_of_birth) == PEOPLE[1]

    # nothing left plain: a second run changes nothing
    [again] = seal_stores(settings, [STORE], dry_run=False)
    assert not again.sealed and again.plain == 0
    assert store_rows(settings)[: len(sealed)] == sealed
