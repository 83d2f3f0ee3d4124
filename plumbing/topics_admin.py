"""Creating the declared topics on any Kafka-protocol broker."""

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import DEAD_LETTER_TOPIC, TOPICS


def declared_topics(replication_factor: int = 1) -> list[NewTopic]:
    topics = [
        NewTopic(
            t.name,
            num_partitions=t.partitions,
            replication_factor=replication_factor,
            topic_configs={"retention.ms": str(t.retention_ms), **t.config},
        )
        for t in TOPICS
    ]
    return [
        *topics,
        NewTopic(DEAD_LETTER_TOPIC, num_partitions=1, replication_factor=replication_factor),
    ]


async def cluster_id(bootstrap_servers: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        return str((await admin.describe_cluster())["cluster_id"])
    finally:
        await admin.close()


async def apply_topics(bootstrap_servers: str, replication_factor: int = 1) -> list[str]:
    """Create every declared topic that does not yet exist; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in declared_topics(replication_factor) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
