"""A service's small saves are planned once, not at every save
(`plumbing.outbox.GENERIC_PLANS`): PostgreSQL would plan each statement taking arrays afresh
each time, the events table locked, for longer than it took to run it."""

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.embedded import start_postgres
from plumbing.settings import Settings
from schemas.trace import Trace
from services.referral.application import ReferralService
from services.referral.main import definition

STAFF = Trace("district-staff:north-1", uuid4())


@pytest.fixture(scope="module")
def referral(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferralService]:
    server = start_postgres(Path(tmp_path_factory.mktemp("plans")))
    settings = Settings(database_url=server.get_uri("civil_orders"), kafka_bootstrap_servers="-")
    service = ReferralService(settings)
    try:
        service.keep_projections(*definition.local_projections(service))
        yield service
    finally:
        service.close()
        server.cleanup()


def plans(service: ReferralService) -> dict[str, tuple[int, int]]:
    """Each statement prepared on the store's connections: how often PostgreSQL used its
    generic plan, and how often it planned the statement for the values it was given."""
    pool = service.process_recorder.datastore.pool
    connections = [pool.getconn() for _ in range(pool.max_size)]
    try:
        counts: dict[str, tuple[int, int]] = {}
        for conn in connections:
            rows = conn.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            )
            for row in rows:  # (the library's pool hands out rows as dicts)
                generic, custom = counts.get(statement := row["statement"], (0, 0))
                counts[statement] = (generic + row["generic_plans"], custom + row["custom_plans"])
        return counts
    finally:
        for conn in connections:
            pool.putconn(conn)


def test_many_saves_plan_the_outbox_and_the_events_statements_once(
    referral: ReferralService,
) -> None:
    people = Synthetic(seed=7)
    for _ in range(30):
        referral.receive_referral(people.referral("north").payload, "staff form", STAFF)

    prepared = plans(referral)
    outbox = [n for s, n in prepared.items() if s.startswith('INSERT INTO "referral".outbox')]
    events = [n for s, n in prepared.items() if s.startswith('INSERT INTO "referral"."referral_')]

    assert outbox and events
    for generic, custom in outbox + events:
        assert custom == 0
        assert generic > 0
    assert sum(generic for generic, _ in outbox) == 30  # a save each
