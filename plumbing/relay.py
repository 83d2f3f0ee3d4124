"""The transactional outbox: a service's events reach Kafka only from its own event log."""

import asyncio
from collections.abc import Callable
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import DomainEvent, DomainEventProtocol
from eventsourcing.persistence import Tracking
from faststream.kafka import KafkaBroker

from plumbing.eventstore import EventSourcedService, Trace
from plumbing.follower import LogFollower
from schemas.envelope import Envelope, Payload
from schemas.topics import topic_of

# Maps a stored domain event to its wire event class and payload, or None to keep it private.
# It may read the service's aggregates (as at the event's version) to fill the payload.
ToWire = Callable[[Any, DomainEventProtocol], tuple[type[Envelope], Payload] | None]


def event_id(originator_id: UUID, version: int) -> UUID:
    """A stable id for a stored event, the same on every republish."""
    return uuid5(NAMESPACE_URL, f"civil-orders:event/{originator_id}/{version}")


def to_envelope(
    service: EventSourcedService, event: DomainEventProtocol, sequence: int, to_wire: ToWire
) -> Envelope | None:
    wired = to_wire(service, event)
    if wired is None:
        return None
    envelope_class, payload = wired
    trace: Trace = event.trace  # type: ignore[attr-defined]
    return envelope_class(  # type: ignore[call-arg]  # the subclass fixes type and version
        event_id=event_id(event.originator_id, event.originator_version),
        occurred_at=cast(DomainEvent, event).timestamp,
        producer=service.name,
        aggregate_id=event.originator_id,
        aggregate_version=event.originator_version,
        sequence=sequence,
        correlation_id=trace.correlation_id,
        causation_id=trace.causation_id,
        actor=trace.actor,
        payload=payload,
    )


def publisher(
    broker: KafkaBroker, loop: asyncio.AbstractEventLoop, timeout: float = 30.0
) -> Callable[[Envelope], None]:
    """A blocking publish, for threads, that returns once the broker has acknowledged."""

    async def publish(envelope: Envelope) -> None:
        await broker.publish(
            envelope.model_dump_json().encode(),
            topic=topic_of(type(envelope)).name,
            key=str(envelope.aggregate_id).encode(),
            headers={
                "event_type": envelope.event_type,
                "correlation_id": str(envelope.correlation_id),
                "content-type": "application/json",
            },
        )

    def publish_blocking(envelope: Envelope) -> None:
        future = asyncio.run_coroutine_threadsafe(publish(envelope), loop)
        future.result(timeout)

    return publish_blocking


class OutboxRelay(LogFollower):
    """Publishes each wire-visible event, in log order, keyed by aggregate id, then records
    its position. A crash between the two republishes the event; consumers drop the copy.

    The position is kept per Kafka cluster id: a broker that lost its data comes back as a
    new cluster (the embedded one always does), and is sent the whole history again."""

    def __init__(
        self,
        service: EventSourcedService,
        to_wire: ToWire,
        publish: Callable[[Envelope], None],
        cluster_id: str,
    ) -> None:
        super().__init__(service, f"outbox:{cluster_id}", self._relay)
        self._to_wire = to_wire
        self._publish = publish

    def _relay(self, event: DomainEventProtocol, sequence: int) -> None:
        envelope = to_envelope(self.service, event, sequence, self._to_wire)
        if envelope is not None:
            self._publish(envelope)
        self.service.process_recorder.insert_tracking(Tracking(self.name, sequence))


def feed_page(
    service: EventSourcedService, to_wire: ToWire, after: int, limit: int
) -> dict[str, Any]:
    """The wire events stored after position `after`, as the relay publishes them: a replay
    feed that needs no broker. `next` is where to continue; `head` the latest position."""
    notifications = service.recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False
    )
    events = []
    for notification in notifications:
        event = service.mapper.to_domain_event(notification)
        envelope = to_envelope(service, event, notification.id, to_wire)
        if envelope is not None:
            events.append(
                {"topic": topic_of(type(envelope)).name, "event": envelope.model_dump(mode="json")}
            )
    return {
        "events": events,
        "next": notifications[-1].id if notifications else after,
        "head": service.recorder.max_notification_id() or 0,
    }
