"""The benchmark's raw baselines run on the stack's broker, each on a topic of its own that
is gone afterwards: a topic kept from run to run fills with the baseline's own messages, and
the embedded broker answers a fetch more slowly the more batches a partition holds."""

from aiokafka.admin import AIOKafkaAdminClient

from civil_orders.drills.bench_probes import broker_round_trip, raw_produce_consume
from civil_orders.stack.client import Client


async def bench_topics(client: Client) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=client.bootstrap_servers)
    await admin.start()
    try:
        return {topic for topic in await admin.list_topics() if topic.startswith("bench.")}
    finally:
        await admin.close()


async def test_the_raw_baselines_measure_and_leave_no_topic_behind(client: Client) -> None:
    before = await bench_topics(client)

    round_trips = await broker_round_trip(client, 5)
    messages = [(f"key-{n}".encode(), b"x" * 200) for n in range(300)]
    rate = await raw_produce_consume(client, messages, partitions=3)

    assert len(round_trips.seconds) == 5 and round_trips.ms(50) > 0 and rate > 0
    assert await bench_topics(client) == before
