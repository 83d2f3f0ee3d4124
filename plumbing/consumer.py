"""The one consumer pattern: parse the envelope, hop into the service (or await a read
model's async policy), dead-letter what fails.

Transient failures (database or broker unavailable) are raised, so the message is not
committed and comes again; bad input and rejected commands go to the dead-letter path and
the consumer carries on with the next message.
"""

import inspect
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from pydantic import ValidationError

from plumbing.deadletters import DeadLetters
from plumbing.errors import CommandRejected
from plumbing.eventstore import hop
from schemas.envelope import Envelope
from schemas.topics import Topic, topic_of

log = structlog.get_logger()
E = TypeVar("E", bound=Envelope)


def describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'message'}: {e['msg']}"
        for e in error.errors()
    )


async def _raw_body(message: StreamMessage[object]) -> bytes:
    return message.body


class Consumers:
    """A service's one consumer: its policies, registered one event type at a time, under the
    service's consumer group. Events of other types on the same topics are passed over."""

    def __init__(self, broker: KafkaBroker, group: str, dead_letters: DeadLetters) -> None:
        self.broker = broker
        self.group = group
        self.dead_letters = dead_letters
        self._policies: dict[type[Envelope], Callable[[Any], object]] = {}
        self._topics: dict[str, Topic] = {}
        self._subscriber: Any = None

    def on(self, event_type: type[E], policy: Callable[[E], object]) -> None:
        source = topic_of(event_type)
        self._topics[source.name] = source
        self._policies[event_type] = policy

    def subscribe(self) -> None:
        """Declare the single subscriber for every topic a policy listens to."""
        if not self._topics:
            return
        self._subscriber = self.broker.subscriber(
            *self._topics,
            group_id=self.group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            decoder=_raw_body,
            title=f"{self.group}-policies",
            description=f"The {self.group} service's policies.",
        )
        self._subscriber(self._consume)

    @property
    def subscribed(self) -> bool:
        return self._subscriber is not None

    def consumer(self) -> AIOKafkaConsumer | None:
        """The running Kafka consumer, if any (for readiness and lag)."""
        return getattr(self._subscriber, "consumer", None)

    async def _consume(self, body: bytes, message: KafkaMessage) -> None:
        record = cast(ConsumerRecord, message.raw_message)
        source = self._topics[record.topic]
        try:
            envelope = source.parse(body)
        except ValidationError as error:
            await self._dead_letter(record, f"invalid {source.name} message: {describe(error)}")
            return
        policy = self._policies.get(type(envelope))
        if policy is None:
            return
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(envelope.correlation_id),
            event_id=str(envelope.event_id),
            event_type=envelope.event_type,
        ):
            started = time.perf_counter()
            try:
                if inspect.iscoroutinefunction(policy):
                    await policy(envelope)
                else:
                    await hop(policy, envelope)
            except CommandRejected as rejection:
                await self._dead_letter(record, f"{envelope.event_type} rejected: {rejection}")
                return
            log.info(
                "event handled",
                policy=policy.__name__,
                producer=envelope.producer,
                sequence=envelope.sequence,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        dead_letter_id = await self.dead_letters.record(record, reason)
        log.warning("message dead-lettered", reason=reason, dead_letter_id=dead_letter_id)
