"""A service's store in memory: the eventsourcing library's own in-memory persistence
(`eventsourcing.popo`), keeping beside the events what PostgreSQL keeps beside them.

The caller chooses it (`EventSourcedService(settings, store=InMemory())`); the service-layer
tests do, so a command goes in and its events and wire messages come out with no server.
Everything but the storage is the service's own: the same save makes the same wire messages
(`outbox.wire_all`, sealed with the same keys) and this recorder places them in the log as
the PostgreSQL one does (`outbox.chain_positions`); the upstream positions (`trackings=`,
each exact position, as PostgreSQL keeps a row for each) and the consumer's last positions
taken (`arrivals=`) are written with the events, or nothing is; the people's keys are in a
key table in memory (`SharedKeys`) that the services given it share, as the services of a
stack share the key store.

What a store in memory does not have: SQL. The local projections (`plumbing.projection`) are
read models in PostgreSQL tables, so a service in memory keeps none, and whatever reads them
(the queues, lists and sweeps, and choosing the caseworker with the fewest open cases) is
refused with `NoSqlInMemory`; so are the hash chain (a trigger) and the relay's and log
followers' notices (LISTEN). Those run on PostgreSQL, in the e2e tier.
"""

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    IntegrityError,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
from eventsourcing.popo import POPOAggregateRecorder, POPOFactory, POPOProcessRecorder
from eventsourcing.utils import get_topic

from plumbing.arrivals import Stream
from plumbing.keystore import KeyTable, MemoryKeys
from plumbing.outbox import Message, Wired, chain_positions

Position = tuple[str, int]  # (upstream, sequence), as `plumbing.eventstore` records it


class NoSqlInMemory(RuntimeError):
    def __init__(self, service: str) -> None:
        super().__init__(
            f"the {service} service's store is in memory, which has no SQL: its read models, "
            "and what reads them, run on PostgreSQL only"
        )


class MemoryTable(POPOAggregateRecorder):
    """A table of stored events in memory (a service's snapshots), named as in PostgreSQL."""

    def __init__(self, events_table_name: str) -> None:
        super().__init__()
        self.events_table_name = events_table_name


class MemoryRecorder(POPOProcessRecorder):
    """The library's process recorder in memory, which also keeps each stored event's wire
    message (`outbox=`), any number of upstream positions (`trackings=`) and the consumer's
    last positions taken (`arrivals=`), written with the events or not at all: what
    `plumbing.outbox.OutboxRecorder` writes in the events' transaction."""

    def __init__(self, tables: Mapping[str, AggregateRecorder]) -> None:
        super().__init__()
        self.tables = tables  # the factory's other tables, by name (the snapshots)
        self.positions: set[Position] = set()
        self.arrivals: dict[Stream, int] = {}
        self.outbox: list[Message] = []
        self._last: dict[tuple[str, bytes], int] = {}  # each stream's last message
        self._lock = threading.RLock()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        trackings = [*kwargs.get("trackings", ()), *([tracking] if tracking else [])]
        with self._lock:
            positions = self._new_positions(trackings)
            notification_ids = super().insert_events(stored_events) or []
            self.positions |= positions
            for stream, sequence in kwargs.get("arrivals", {}).items():
                self.arrivals[stream] = max(sequence, self.arrivals.get(stream, 0))
            wired: Sequence[Wired | None] = kwargs.get("outbox", ())
            if notification_ids and wired:
                self._write_outbox(wired, notification_ids)
            return notification_ids

    def _new_positions(self, trackings: Sequence[Tracking]) -> set[Position]:
        """These positions, none recorded yet (as the tracking table's primary key has it)."""
        positions = {(t.application_name, t.notification_id) for t in trackings}
        if len(positions) < len(trackings) or positions & self.positions:
            raise IntegrityError(f"an upstream position is recorded already: {trackings}")
        return positions

    def _write_outbox(self, wired: Sequence[Wired | None], positions: Sequence[int]) -> None:
        messages = chain_positions(wired, positions, self._last)
        self.outbox += messages
        self._last |= {(m.topic, m.key): m.sequence for m in messages}

    def insert_tracking(self, tracking: Tracking) -> None:
        with self._lock:
            self.positions |= self._new_positions([tracking])

    def max_tracking_id(self, application_name: str) -> int | None:
        with self._lock:
            mine = [n for name, n in self.positions if name == application_name]
        return max(mine, default=None)

    def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        return notification_id is None or (application_name, notification_id) in self.positions

    def recorded_positions(self, positions: Sequence[Position]) -> set[Position]:
        """Which of these upstream positions are recorded."""
        with self._lock:
            return set(positions) & self.positions

    def select_messages(self, after: int, limit: int) -> list[Message]:
        """Ready wire messages after log position `after`, in log order."""
        with self._lock:
            return [m for m in self.outbox if m.sequence > after][:limit]

    def max_message_id(self) -> int:
        with self._lock:
            return self.outbox[-1].sequence if self.outbox else 0

    def select_latest(
        self, after: Mapping[UUID, int], snapshots_table: str | None
    ) -> list[StoredEvent]:
        """For each aggregate, its events after the version `after` gives it; where that is
        0, its newest snapshot (if any) first and the events after that."""
        snapshots = self.tables[snapshots_table] if snapshots_table else None
        stored: list[StoredEvent] = []
        for aggregate_id, version in after.items():
            if version == 0 and snapshots is not None:
                newest = snapshots.select_events(aggregate_id, desc=True, limit=1)
                stored += newest
                version = newest[0].originator_version if newest else 0
            stored += self.select_events(aggregate_id, gt=version)
        return stored


class SharedKeys(MemoryKeys):
    """A key table in memory that the services of one test share: each hears of a key
    destroyed, as the processes of a stack hear of it from PostgreSQL."""

    def __init__(self) -> None:
        super().__init__()
        self._watching: list[Callable[[UUID | None], None]] = []

    def destroy(self, key_id: UUID) -> None:
        super().destroy(key_id)
        for forget in self._watching:
            forget(key_id)

    def watch(self, forget: Callable[[UUID | None], None]) -> None:
        self._watching.append(forget)


class MemoryFactory(POPOFactory):
    """The library's in-memory infrastructure, with `MemoryRecorder` for the events."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.tables: dict[str, AggregateRecorder] = {}

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        table = MemoryTable(f"{self.env.name.lower()}_{purpose}")
        self.tables[table.events_table_name] = table
        return table

    def process_recorder(self) -> ProcessRecorder:
        return MemoryRecorder(self.tables)


@dataclass(frozen=True)
class InMemory:
    """A service's store in memory, its people's keys in `keys`: give the services of one
    test the same key table, as one key store serves every service of a stack."""

    keys: KeyTable = field(default_factory=SharedKeys)

    @property
    def env(self) -> dict[str, str]:
        """The library's settings for it (they replace the PostgreSQL ones)."""
        return {"PERSISTENCE_MODULE": get_topic(MemoryFactory)}
