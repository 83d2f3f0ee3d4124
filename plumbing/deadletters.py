"""The dead-letter path: what a consumer could not take, kept with its reason and bytes."""

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker

from plumbing.settings import SERVICE_PORTS
from schemas.text import storable_text
from schemas.topics import DEAD_LETTER_TOPIC

# The header a re-driven dead letter carries, naming the service it was dead-lettered by: that
# consumer takes it as it comes, though its position was taken (see `plumbing.arrivals`).
REDRIVEN = "dlq_redriven"


@dataclass(frozen=True)
class DeadLetter:
    id: int
    service: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str | None]
    reason: str
    recorded_at: datetime
    retried_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            **{k: v for k, v in vars(self).items() if k not in ("key", "value")},
            "key": self.key.decode(errors="replace") if self.key else None,
            "value": self.value.decode(errors="replace"),
            "recorded_at": self.recorded_at.isoformat(),
            "retried_at": self.retried_at.isoformat() if self.retried_at else None,
        }


def _create_table(schema: str) -> str:
    return f"""
        CREATE SCHEMA IF NOT EXISTS "{schema}";
        CREATE TABLE IF NOT EXISTS "{schema}".dead_letters (
            id bigserial PRIMARY KEY,
            topic text NOT NULL,
            partition integer NOT NULL,
            "offset" bigint NOT NULL,
            key bytea,
            value bytea NOT NULL,
            headers jsonb NOT NULL,
            reason text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            retried_at timestamptz
        )"""


class DeadLetters:
    """A service's dead-letter table, mirrored onto the dead-letter topic."""

    def __init__(self, pool: asyncpg.Pool, broker: KafkaBroker, service: str) -> None:
        self.pool = pool
        self.broker = broker
        self.service = service

    async def setup(self) -> None:
        await self.pool.execute(_create_table(self.service))

    async def outstanding(self) -> int:
        count: int = await self.pool.fetchval(
            f'SELECT count(*) FROM "{self.service}".dead_letters WHERE retried_at IS NULL'
        )
        return count

    async def record(self, record: ConsumerRecord, reason: str) -> int:
        """Keep the message's bytes as they came; its headers and the reason, which may quote
        it, as text PostgreSQL can hold (NUL and unpaired surrogates written as escapes). A
        header without a value is kept as null, and left off the dead-letter topic (where
        faststream would send it as empty)."""
        headers = {
            storable_text(k): None if v is None else storable_text(v.decode(errors="replace"))
            for k, v in record.headers
        }
        reason = storable_text(reason)
        dead_letter_id: int = await self.pool.fetchval(
            f"""INSERT INTO "{self.service}".dead_letters
                (topic, partition, "offset", key, value, headers, reason)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            json.dumps(headers),
            reason,
        )
        await self.broker.publish(
            record.value,
            topic=DEAD_LETTER_TOPIC,
            key=record.key,
            headers={
                **{k: v for k, v in headers.items() if v is not None},
                "dlq_service": self.service,
                "dlq_reason": reason[:1000],
                "dlq_origin": f"{record.topic}/{record.partition}/{record.offset}",
            },
        )
        return dead_letter_id


async def list_dead_letters(
    conn: asyncpg.Connection, include_retried: bool = False
) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for service in SERVICE_PORTS:
        exists = await conn.fetchval("SELECT to_regclass($1)", f'"{service}".dead_letters')
        if exists is None:
            continue
        rows = await conn.fetch(
            f"""SELECT * FROM "{service}".dead_letters
                WHERE $1 OR retried_at IS NULL ORDER BY id""",
            include_retried,
        )
        letters += [
            DeadLetter(service=service, **{**dict(row), "headers": json.loads(row["headers"])})
            for row in rows
        ]
    return sorted(letters, key=lambda letter: letter.recorded_at)


async def connect_and_list(database_url: str, include_retried: bool) -> list[DeadLetter]:
    conn = await asyncpg.connect(database_url)
    try:
        return await list_dead_letters(conn, include_retried)
    finally:
        await conn.close()


async def redrive(
    database_url: str, bootstrap_servers: str, service: str, ids: list[int]
) -> list[tuple[int, str]]:
    """Publish each dead letter's original bytes to its original topic, headed as re-driven
    for `service`, and mark it retried."""
    letters = {
        letter.id: letter
        for letter in await connect_and_list(database_url, include_retried=True)
        if letter.service == service
    }
    outcomes = []
    conn = await asyncpg.connect(database_url)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for letter_id in ids:
            letter = letters.get(letter_id)
            if letter is None:
                outcomes.append((letter_id, f"no such dead letter in {service}"))
                continue
            await producer.send_and_wait(
                letter.topic, letter.value, key=letter.key, headers=[(REDRIVEN, service.encode())]
            )
            await conn.execute(
                f'UPDATE "{service}".dead_letters SET retried_at = now() WHERE id = $1', letter_id
            )
            outcomes.append((letter_id, f"re-published to {letter.topic}"))
    finally:
        await producer.stop()
        await conn.close()
    return outcomes
