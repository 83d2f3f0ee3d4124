"""Writing the contracts out: JSON Schema per event, and an AsyncAPI document for every topic."""

import json
import logging
from pathlib import Path
from typing import Union

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from schemas.topics import TOPICS


def asyncapi_document() -> str:
    broker = KafkaBroker("kafka:9092", log_level=logging.DEBUG)
    for topic in TOPICS:
        payload = topic.events[0] if len(topic.events) == 1 else Union[topic.events]  # noqa: UP007
        broker.publisher(
            topic.name,
            title=topic.name,
            description=f"{topic.description} Partitions: {topic.partitions}.",
            schema=payload,
        )
    spec = AsyncAPI(
        broker,
        title="civil-orders events",
        version="1",
        description=(
            "Every event that crosses a civil-orders service boundary. Each travels in a common "
            "envelope; keys are aggregate ids, so one aggregate's events stay in order."
        ),
    )
    document = yaml.safe_load(spec.to_specification().to_yaml())
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True)  # stable order


def export(out: Path) -> list[Path]:
    """Write one JSON Schema per event and asyncapi.yaml into `out`; return the files."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in TOPICS:
        for event in topic.events:
            path = out / f"{event.__name__}.json"
            schema = {"x-topic": topic.name, **event.model_json_schema()}
            path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
            written.append(path)
    asyncapi = out / "asyncapi.yaml"
    asyncapi.write_text(asyncapi_document())
    return [*written, asyncapi]
