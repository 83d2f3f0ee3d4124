"""The wire contracts between civil-orders services: event envelopes and topics.

Every event that crosses a service boundary is a frozen pydantic model in a
common envelope; topics carry their version in their name.
"""

from schemas.envelope import Envelope, Payload
from schemas.topics import TOPICS, Topic, topic

__all__ = ["TOPICS", "Envelope", "Payload", "Topic", "topic"]
