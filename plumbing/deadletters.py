"""The dead-letter path: what a consumer could not take, kept with its reason and bytes."""

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker

from schemas.topics import DEAD_LETTER_TOPIC

SERVICES = ("referral", "application", "breach", "notification")


@dataclass(frozen=True)
class DeadLetter:
    id: int
    service: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    reason: str
    recorded_at: datetime
    retried_at: datetime | None


def _create_table(schema: str) -> str:
    return f"""
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

    async def record(self, record: ConsumerRecord, reason: str) -> int:
        headers = {k: v.decode(errors="replace") for k, v in record.headers}
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
                **headers,
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
    for service in SERVICES:
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


async def mark_retried(conn: asyncpg.Connection, letter: DeadLetter) -> None:
    await conn.execute(
        f'UPDATE "{letter.service}".dead_letters SET retried_at = now() WHERE id = $1', letter.id
    )
