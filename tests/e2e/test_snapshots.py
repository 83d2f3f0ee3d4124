"""An aggregate whose stream has no last event loads from its newest snapshot and the events
after it, read at once (or, where the service has it in memory, from that and the events
after it); the hash chain and the auditor's replay read the events alone."""

from typing import Any
from uuid import uuid4

import pytest

from civil_orders.stack.embedded import Stack
from plumbing.chain import verify
from plumbing.settings import Settings
from plumbing.snapshots import INTERVAL
from services.breach.application import BreachService
from services.breach.domain import SubjectBreaches


class Breaches(BreachService):
    """The breach service's store and snapshotting, in a schema of the test's own."""

    name = "snapshot_breach"


def reads_of(service: Breaches, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the service's repository asks its event store for, from now on."""
    reads: list[dict[str, Any]] = []
    events = service.repository.event_store
    get = events.get

    def reading(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs)
        return get(*args, **kwargs)

    monkeypatch.setattr(events, "get", reading)
    return reads


def loads_of(service: Breaches, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The versions each cold load of the service reads (its snapshot's, then its events')."""
    loads: list[list[int]] = []
    recorder = service.process_recorder
    select_latest = recorder.select_latest

    def reading(*args: Any) -> Any:
        stored = select_latest(*args)
        loads.append([event.originator_version for event in stored])
        return stored

    monkeypatch.setattr(recorder, "select_latest", reading)
    return loads


def test_a_subject_breaching_again_and_again_loads_from_a_snapshot_and_the_events_after_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=stack.database_url, kafka_bootstrap_servers="unused:9092")
    service, audit = Breaches(settings), Breaches(settings, read_only=True)
    started = Breaches(settings)  # another replica, or this one started again: nothing in memory
    try:
        # One breach at a time, as the service counts them: version 2 * INTERVAL + 3.
        history = SubjectBreaches(subject_nominal_id=f"SYN-{uuid4()}")
        for _ in range(2 * INTERVAL + 2):
            history.count_breach(uuid4())
            service.save(history)

        assert service.snapshots is not None
        [snapshot] = service.snapshots.get(history.id, desc=True, limit=1)
        assert snapshot.originator_version == 2 * INTERVAL

        cold, warm = loads_of(started, monkeypatch), reads_of(service, monkeypatch)
        loaded: SubjectBreaches = started.repository.get(history.id)
        again: SubjectBreaches = service.repository.get(history.id)
        assert loaded.count == again.count == 2 * INTERVAL + 2
        after = 2 * INTERVAL  # the snapshot, then only the 3 events after it, in one read
        assert cold == [[after, after + 1, after + 2, after + 3]]
        # what it saved, kept: not read again while it hears every store of events
        assert warm == []

        assert audit.snapshots is None  # the auditor rebuilds from the events alone
        assert audit.repository.get(history.id).count == loaded.count
        [chain] = verify(stack.database_url, [service.name])
        assert chain.intact and chain.events_checked >= 2 * INTERVAL + 3
    finally:
        service.close()
        started.close()
        audit.close()
