"""The libraries' private members that plumbing relies on, as plumbing uses them.

`plumbing/eventstore.py` and `plumbing/outbox.py` extend the library where it has no public
hook: recording a save's wire messages, positions and read models in its transaction, and the
unit of work's single write. An upgrade that renames or reshapes any of these fails here, by
name, before it fails a save at run time (the version is pinned in `pyproject.toml`).
`plumbing/consumer.py` likewise replaces how faststream's batch subscriber fetches."""

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.popo import POPOProcessRecorder
from eventsourcing.postgres import PostgresProcessRecorder
from faststream.kafka.subscriber.usecase import BatchSubscriber, LogicSubscriber

from plumbing.eventstore import BatchRepository, EventSourcedService
from plumbing.memory import MemoryRecorder
from plumbing.outbox import OutboxRecorder

RECORDER = PostgresProcessRecorder
PINNED: list[tuple[type, str, list[str]]] = [
    # the unit of work writes its changes as the library's own processes do
    (Application, "_record", ["self", "processing_event"]),
    (Application, "_take_snapshots", ["self", "processing_event"]),
    (Application, "_notify", ["self", "recordings"]),
    # a load reads the newest snapshot and the events after it in one statement
    (Repository, "_reconstruct_aggregate", ["self", "aggregate_id", "version", "projector_func"]),
    # the recorder writes the outbox, positions and local read models in the events' transaction
    (RECORDER, "insert_events", ["self", "stored_events", "kwargs"]),
    (RECORDER, "_insert_events", ["self", "curs", "stored_events", "kwargs"]),
    (RECORDER, "_insert_tracking", ["self", "curs", "tracking"]),
    (RECORDER, "_lock_table", ["self", "curs"]),
    (RECORDER, "_notify_channel", ["self", "curs"]),
]  # fmt: skip


@pytest.mark.parametrize(("owner", "name", "parameters"), PINNED, ids=[n for _, n, _ in PINNED])
def test_each_private_member_plumbing_uses_is_there_as_it_expects(
    owner: type, name: str, parameters: list[str]
) -> None:
    member: Callable[..., Any] = getattr(owner, name)
    assert list(inspect.signature(member).parameters) == parameters


def test_every_save_goes_through_record_with_its_keyword_arguments_reaching_the_recorder() -> None:
    """`EventSourcedService._record` is where wire messages and keys are made: the library
    must call it for each save and pass `saved_kwargs` on to `insert_events`."""
    assert "self._record(" in inspect.getsource(Application.save)
    assert "saved_kwargs" in inspect.getsource(Application._record)
    assert {"saved_kwargs", "aggregates", "events"} <= set(vars(ProcessingEvent()))


def test_plumbing_overrides_only_what_is_pinned() -> None:
    """Each private member plumbing overrides is one of the pinned (a new override is pinned
    as it is written)."""
    pinned = {name for _, name, _ in PINNED}
    for ours, library in (
        (EventSourcedService, Application),
        (OutboxRecorder, PostgresProcessRecorder),
        (BatchRepository, Repository),
        (MemoryRecorder, POPOProcessRecorder),  # only public members: none is pinned
    ):
        overridden = {
            name
            for name in vars(ours)
            if name.startswith("_")
            and not name.startswith(("__", "_abc"))
            and callable(getattr(library, name, None))
        }
        assert overridden <= pinned, overridden - pinned


def test_the_batch_subscriber_fetches_through_get_msg_and_passes_over_an_empty_batch() -> None:
    """`Consumers` replaces the batch subscriber's `get_msg` (which sleeps after a fetch that
    brought nothing): the consume loop must fetch through it, and skip what brings nothing."""
    assert list(inspect.signature(BatchSubscriber.get_msg).parameters) == ["self", "consumer"]
    loop = inspect.getsource(LogicSubscriber._run_consume_loop)
    assert "await self.get_msg(consumer)" in loop
    assert "if msg:" in loop
