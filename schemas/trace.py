"""Who caused an event, and the thread of work it belongs to: a value every domain event
carries, with no infrastructure behind it."""

import dataclasses
from uuid import UUID

from schemas.envelope import Envelope


@dataclasses.dataclass(frozen=True)
class Trace:
    """Who caused an event, and the thread of work it belongs to."""

    actor: str
    correlation_id: UUID
    causation_id: UUID | None = None

    @classmethod
    def caused_by(cls, envelope: Envelope, actor: str | None = None) -> "Trace":
        """The trace of work done in reaction to `envelope`: by `actor`, or by its own actor."""
        return cls(actor or envelope.actor, envelope.correlation_id, envelope.event_id)
