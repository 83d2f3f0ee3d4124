"""What an operator does: re-drive dead letters, apply topics, read the help."""

import subprocess
import sys
from uuid import UUID

from civil_orders.drills.demo import (
    accept,
    alerts_for,
    dead_lettered_after,
    grant,
    refer,
    team_managing,
)
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack
from schemas import dates
from services.application.domain import Order
from tests.commands import cli


async def test_a_breach_reported_before_its_order_was_known_is_recorded_when_re_driven(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=31)
    application = await accept(client, (await refer(client, people, "north"))["id"])
    order_id = Order.create_id(UUID(application["id"]))
    reference = Order.reference_for(order_id, dates.today())

    # the breach report arrives before the court's order is recorded: refused, kept
    before = {(d.service, d.id) for d in await client.dead_letters()}
    await client.publish(people.breach("north", reference))
    reason = await dead_lettered_after(client, before)
    assert f"no order with reference {reference!r}" in reason
    [letter] = [d for d in await client.dead_letters() if (d.service, d.id) not in before]

    assert await grant(client, application["id"]) == reference
    team = await team_managing(client, reference)
    retried = cli(stack, "dlq", "retry", "breach", str(letter.id))

    assert retried.returncode == 0, retried.stderr
    assert f"breach #{letter.id}: re-published to district.breaches.v1" in retried.stdout
    alerts = await alerts_for(client, team, reference, count=2)
    assert sorted(a["alert"]["kind"] for a in alerts) == ["breach", "order allocated"]
    listed = cli(stack, "dlq", "list", "--json")
    assert f'"id": {letter.id}, "service": "breach"' not in listed.stdout


def test_topics_apply_on_the_running_broker_creates_nothing_twice(stack: Stack) -> None:
    applied = cli(stack, "topics", "apply")

    assert applied.returncode == 0, applied.stderr
    assert "all topics already exist" in applied.stdout


def test_the_help_explains_the_tool_and_names_its_commands(stack: Stack) -> None:
    shown = cli(stack, "--help")

    assert shown.returncode == 0
    for command in ("up", "demo", "bench", "schemas", "topics", "dlq"):
        assert command in shown.stdout
    assert "Sexual Risk Orders" in shown.stdout


def test_a_service_started_without_its_settings_says_which_are_missing_or_wrong(
    stack: Stack,
) -> None:
    env = {k: v for k, v in stack.env().items() if k != "DATABASE_URL"}
    env["KAFKA_IDEMPOTENCE"] = "perhaps"
    started = subprocess.run(
        [sys.executable, "-m", "civil_orders", "serve", "referral"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode == 2
    assert "database_url" in started.stdout and "Field required" in started.stdout
    assert "kafka_idempotence" in started.stdout
    assert "Traceback" not in started.stdout + started.stderr
