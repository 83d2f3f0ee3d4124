"""Publishing many messages at once, in order per key: each partition's messages as one batch
(more, one after another, if they overflow `BATCH_BYTES`), the partitions side by side. The
outbox relay publishes its pages so, and the tools publish a district's backlog so.

Many messages cost a round trip to the broker, not one each, and the partition's log holds
them in a few batches, not one per message (the embedded broker answers a fetch more slowly
the more batches a partition holds). The broker appends a batch whole or not at all, and a
partition's next batch goes only once it has taken the one before; so a failure part-way
never lets a later message of a key reach the broker before an earlier one. (A producer
cannot promise that on its own without idempotence, which Tansu refuses: a batch that fails
is not retried ahead of the next.)"""

import asyncio
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

BATCH_BYTES = 512 * 1024  # the most a batch holds (brokers refuse past ~1 MB)

_partition_of = DefaultPartitioner()


class Publishable(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> bytes: ...
    @property
    def value(self) -> bytes: ...
    @property
    def event_type(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...


async def publish_in_order(producer: AIOKafkaProducer, messages: Sequence[Publishable]) -> None:
    """Publish the messages, those of a key in the order given, and return once the broker
    has taken them all. The producer's `max_batch_size` should be `BATCH_BYTES`."""
    partitions = {t: sorted(await producer.partitions_for(t)) for t in {m.topic for m in messages}}
    by_partition: dict[tuple[str, int], list[Publishable]] = {}
    for message in messages:
        partition = _partition_of(message.key, partitions[message.topic], [])
        by_partition.setdefault((message.topic, partition), []).append(message)
    async with asyncio.TaskGroup() as sending:  # one fails: the others stop sending
        for (topic, partition), chain in by_partition.items():
            sending.create_task(_in_order(producer, topic, partition, chain))


async def _in_order(
    producer: AIOKafkaProducer, topic: str, partition: int, messages: list[Publishable]
) -> None:
    batch = producer.create_batch()
    for message in messages:
        headers = [
            ("event_type", message.event_type.encode()),
            ("correlation_id", message.correlation_id.encode()),
            ("content-type", b"application/json"),
        ]
        # a full batch goes, and the message starts the next (an empty batch takes any)
        while batch.append(key=message.key, value=message.value, timestamp=None,
                           headers=headers) is None:  # fmt: skip
            await (await producer.send_batch(batch, topic, partition=partition))
            batch = producer.create_batch()
    await (await producer.send_batch(batch, topic, partition=partition))
