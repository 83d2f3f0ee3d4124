"""What a service in memory stored and published, read as those who rely on it read it: its
events as its repository reads them, its wire messages as the relay sends them (raw, with
their personal fields sealed) and as a consumer takes them (parsed, opened with the key
store); and upstream events taken as its consumer takes them."""

import json
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from plumbing.eventstore import EventSourcedService
from plumbing.memory import MemoryRecorder
from plumbing.outbox import Message
from schemas.envelope import Envelope
from schemas.topics import topic_of

E = TypeVar("E", bound=Envelope)


def recorder(service: EventSourcedService) -> MemoryRecorder:
    assert isinstance(service.recorder, MemoryRecorder)
    return service.recorder


def messages(service: EventSourcedService, kind: type[Envelope] | None = None) -> list[Message]:
    """The outbox in log order (of one event type, given `kind`)."""
    outbox = recorder(service).select_messages(0, 1_000_000)
    return [m for m in outbox if kind is None or m.event_type == kind.type_name()]


def published(service: EventSourcedService, kind: type[E]) -> list[E]:
    """The wire events of this type, as a consumer takes them (personal fields opened)."""
    topic = topic_of(kind)
    opened = [topic.parse(m.value, service.personal.open_json) for m in messages(service, kind)]
    assert all(isinstance(event, kind) for event in opened)
    return opened  # type: ignore[return-value]


def payloads(service: EventSourcedService, kind: type[Envelope]) -> list[dict[str, Any]]:
    """The payloads of the wire events of this type as they go on the wire (sealed)."""
    return [json.loads(m.value)["payload"] for m in messages(service, kind)]


def stored(service: EventSourcedService, aggregate_id: UUID) -> list[Any]:
    """The aggregate's events, as the repository reads them (personal fields opened)."""
    return list(service.events.get(aggregate_id))


def the_log(service: EventSourcedService) -> list[Any]:
    """Every event the service stored, in log order."""
    notifications = service.recorder.select_notifications(0, 1_000_000)
    return [service.mapper.to_domain_event(n) for n in notifications]


def aggregates_with(service: EventSourcedService, kind: type[Any]) -> list[UUID]:
    """The aggregates that stored an event of this kind, in log order."""
    return [event.originator_id for event in the_log(service) if isinstance(event, kind)]


def kinds(events: list[Any]) -> list[str]:
    return [type(event).__qualname__ for event in events]


def log_size(service: EventSourcedService) -> int:
    return service.recorder.max_notification_id() or 0


def consume(service: EventSourcedService, policy: Callable[[Any], object], *events: E) -> list[str]:
    """Take upstream events as the service's consumer does: one batch, its policy run on
    each, every effect and position saved in one transaction. Returns why each refused one
    was refused (it goes to the dead letters)."""
    rejected, _ = service.process_batch([(policy, event) for event in events], {})
    return [why for _, why in rejected]


def unchanged(service: EventSourcedService) -> tuple[int, int, int]:
    """What a repeated upstream event must leave as it was: the log, the outbox, the
    positions recorded."""
    memory = recorder(service)
    return log_size(service), len(memory.outbox), len(memory.positions)
