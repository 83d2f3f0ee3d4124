"""The declared topics, created on any Kafka-protocol broker or written as Kubernetes manifests."""

import contextlib
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import DAY_MS, DEAD_LETTER_TOPIC, TOPICS


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


def topic_specs(replication_factor: int = 1) -> list[TopicSpec]:
    """Every topic from schemas/topics.py, and the dead-letter topic. On a replicated cluster a
    write must reach two replicas before it is acknowledged."""
    durable = {"min.insync.replicas": "2"} if replication_factor >= 3 else {}
    specs = [
        TopicSpec(
            t.name,
            t.partitions,
            replication_factor,
            {"retention.ms": str(t.retention_ms), **t.config, **durable},
        )
        for t in TOPICS
    ]
    dead_letters = {"retention.ms": str(365 * DAY_MS), **durable}
    return [*specs, TopicSpec(DEAD_LETTER_TOPIC, 1, replication_factor, dead_letters)]


def strimzi_manifests(replication_factor: int = 3, cluster: str = "civil-orders") -> list[Any]:
    """KafkaTopic resources for the Strimzi operator, one per declared topic."""
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaTopic",
            "metadata": {
                "name": spec.name.replace(".", "-"),
                "labels": {"strimzi.io/cluster": cluster},
            },
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": spec.replication_factor,
                "config": spec.config,
            },
        }
        for spec in topic_specs(replication_factor)
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
        missing = [
            NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config)
            for s in topic_specs(replication_factor)
            if s.name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
