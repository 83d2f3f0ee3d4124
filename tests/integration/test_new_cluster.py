"""A broker that lost its data is a new Kafka cluster, empty: a service watches for one and
moves to it (`plumbing.relay.follow_the_cluster`), and its topics are made as declared."""

import asyncio
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from civil_orders.stack.embedded import start_tansu
from plumbing.consumer import Consumers
from plumbing.deadletters import DeadLetters
from plumbing.relay import follow_the_cluster
from plumbing.topics_admin import apply_topics, cluster_id
from schemas.district import DistrictReferralV1
from schemas.topics import topic_of


def referral_consumers(address: str, group: str) -> tuple[KafkaBroker, Consumers]:
    """A referral service's consumer of district referrals, subscribed, not started."""
    broker = KafkaBroker(address)
    consumers = Consumers(broker, group, DeadLetters(None, broker, "referral"))
    consumers.on(DistrictReferralV1, lambda event: None)
    consumers.subscribe()
    return broker, consumers


async def test_a_move_a_library_cancelled_is_made_again_and_only_a_stop_ends_the_watch(
    tmp_path: Path,
) -> None:
    first, address = start_tansu(tmp_path / "first", port=0)
    was = await cluster_id(address)
    first.kill()
    first.wait()
    port = int(address.rsplit(":", 1)[1])
    second, address = start_tansu(tmp_path / "second", port)  # empty, where the first was
    try:
        now = await cluster_id(address)
        moves: list[str] = []
        moved = asyncio.Event()

        async def move_to(cluster: str) -> None:
            moves.append(cluster)
            if len(moves) == 1:  # as aiokafka's consumer did, stopped while the broker was away
                raise asyncio.CancelledError
            moved.set()

        watch = asyncio.create_task(follow_the_cluster(address, was, 0.1, move_to))
        await asyncio.wait_for(moved.wait(), 20)
        assert moves == [now, now]
        await asyncio.sleep(0.5)
        assert moves == [now, now], "a cluster it had moved to was moved to again"
        assert not watch.done()

        watch.cancel()  # the service stopping
        with pytest.raises(asyncio.CancelledError):
            await watch
    finally:
        second.kill()
        second.wait()


async def test_a_consumer_that_joins_an_empty_broker_first_makes_no_topic_of_its_own(
    tmp_path: Path,
) -> None:
    """A subscriber that made its topic (of one partition) before the service declared it (of
    three) left producers that knew three sending to partitions the broker lacked, which the
    embedded broker acknowledged and dropped."""
    process, address = start_tansu(tmp_path, port=0)
    broker, _ = referral_consumers(address, "referral@test")
    admin = AIOKafkaAdminClient(bootstrap_servers=address)
    try:
        await broker.start()
        await apply_topics(address)
        await admin.start()
        topic = topic_of(DistrictReferralV1)
        [described] = await admin.describe_topics([topic.name])
        assert len(described["partitions"]) >= topic.partitions
    finally:
        await admin.close()
        await broker.stop()
        process.kill()
        process.wait()


async def test_a_consumer_that_could_not_rejoin_says_so_until_it_has(tmp_path: Path) -> None:
    """Readiness reads `consuming`: a rejoin that failed part-way (the broker away) had left
    the service saying ready, from the stopped consumer it still held."""
    first, address = start_tansu(tmp_path / "first", port=0)
    broker, consumers = referral_consumers(address, "referral@first")
    second = None
    try:
        await apply_topics(address)
        await broker.start()
        assert consumers.consuming
        first.kill()
        first.wait()
        with pytest.raises(Exception):  # noqa: B017 (whatever the Kafka client raises)
            await asyncio.wait_for(consumers.rejoin("referral@second"), 30)
        assert not consumers.consuming

        second, address = start_tansu(tmp_path / "second", int(address.rsplit(":", 1)[1]))
        await apply_topics(address)
        await consumers.rejoin("referral@second")
        assert consumers.consuming
    finally:
        await broker.stop()
        for process in (first, second):
            if process is not None:
                process.kill()
                process.wait()
