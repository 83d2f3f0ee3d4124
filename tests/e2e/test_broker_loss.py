"""The broker keeps nothing that matters: PostgreSQL does. A broker that lost its data is
sent the whole history again, and idempotent consumers act only on what they had not seen."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from civil_orders.drills.demo import accept, alerts_for, grant, inbox_entry, refer, team_managing
from civil_orders.drills.soak import deliver
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack, running_stack


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(Path(tmp_path_factory.mktemp("broker-loss")), usual_ports=False) as stack:
        if stack.broker_process is None:
            pytest.skip("an external broker cannot be replaced by the tests")
        yield stack


@pytest.fixture
async def own_client(own_stack: Stack) -> AsyncIterator[Client]:
    async with Client(own_stack.urls(), own_stack.bootstrap_servers, own_stack.database_url) as c:
        yield c


async def test_an_alert_in_flight_when_the_broker_lost_everything_still_arrives_once(
    own_stack: Stack, own_client: Client
) -> None:
    people = Synthetic(seed=41)
    earlier = await grant(
        own_client,
        (await accept(own_client, (await refer(own_client, people, "north"))["id"]))["id"],
    )
    await alerts_for(own_client, "mosovo-north", earlier, count=1)
    # a notifier killed between a webhook and recording it sends again (at least once, by
    # design); here the delivery is on record before anything dies
    await inbox_entry(own_client, "mosovo-north", earlier, status="delivered")

    # the order is allocated while the notifier is down: the message waits in the broker...
    own_stack.kill("notification")
    referral = await refer(own_client, people, "north")
    in_flight = await grant(own_client, (await accept(own_client, referral["id"]))["id"])
    await team_managing(own_client, in_flight)

    # ...and the broker dies with it; everything restarts on an empty broker
    services = [name for name in own_stack.processes if name != "team-inbox"]
    own_stack.stop(*services)
    own_stack.replace_broker()
    for name in [*services, "notification"]:
        own_stack.start(name, wait=False)
    for name in [*services, "notification"]:
        own_stack.wait_ready(name)

    [late] = await alerts_for(own_client, "mosovo-north", in_flight, count=1, seconds=60)
    assert late["copies"] == 1
    [before] = await alerts_for(own_client, "mosovo-north", earlier, count=1)
    assert before["copies"] == 1  # the replayed history alerted nobody twice


async def test_a_broker_that_dies_again_while_the_services_move_to_it_is_followed_to_the_next(
    own_stack: Stack, own_client: Client
) -> None:
    """A service that finds a new cluster moves to it: its relay and its consumer group. The
    broker dying again in the middle of that move made the Kafka client's consumer raise
    `CancelledError` as it stopped; that ended the service's watch for new clusters, and its
    consumer stayed stopped for good. And a relay that moved with the Kafka producer it had
    sent the whole history through partitions the new broker lacked, which the embedded broker
    acknowledged and dropped."""
    log = own_stack.log_file("application")

    def moves() -> int:
        return log.read_text().count("the broker is a new Kafka cluster")

    before = moves()
    own_stack.replace_broker()

    async def moving() -> bool | None:
        return moves() > before or None

    await eventually(moving, 30, "the application service to notice the new cluster")
    await asyncio.sleep(0.5)  # its consumer is stopping, or about to
    own_stack.replace_broker()

    # a district system sends again until its referral is recorded: the embedded broker
    # acknowledges, and drops, what reaches it before the topics are declared again
    referral = Synthetic(seed=43).referral("east")
    recorded = f"/referrals/by-reference/east/{referral.payload.district_reference}"

    async def shown() -> bool:
        return (await own_client.get("referral", recorded)).status_code == 200

    await deliver(own_client, referral, shown)
    application = await accept(own_client, (await own_client.found("referral", recorded))["id"])
    reference = await grant(own_client, application["id"])
    [alert] = await alerts_for(own_client, "mosovo-east", reference, count=1, seconds=60)
    assert alert["copies"] == 1
