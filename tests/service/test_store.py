"""The store in memory keeps what the PostgreSQL one keeps, as it keeps it: the wire messages
(the same bytes the history makes again), each upstream position exactly, the consumer's
positions with the batch's effects, snapshots sealed; and refuses, saying so, what needs SQL."""

from datetime import timedelta
from typing import cast
from uuid import uuid4

import pytest

from civil_orders.drills.synthetic import Synthetic
from plumbing import outbox
from plumbing.arrivals import Stream
from plumbing.eventstore import BatchRepository
from plumbing.memory import InMemory, NoSqlInMemory, SharedKeys
from plumbing.snapshots import INTERVAL
from schemas import dates
from schemas.district import VictimAgeBand
from schemas.trace import Trace
from services.breach.application import BreachService
from services.breach.domain import SubjectBreaches
from services.referral.application import ReferralService
from services.referral.domain import DeclineReason, SubjectRecord, SuspectDisposals
from services.referral.queue import QUEUE
from tests.service.conftest import Clock
from tests.service.published import consume, messages, recorder, unchanged
from tests.service.upstream import again, disposal, order_allocated, order_granted, person

ADULT = VictimAgeBand.ADULT

CASEWORKER = Trace("caseworker:cw-1", uuid4())
MANAGER = Trace("manager:mgr-1", uuid4())


def test_the_outbox_holds_what_the_history_makes_again_byte_for_byte(
    referral: ReferralService,
) -> None:
    """What PostgreSQL's outbox is rebuilt from (`outbox.install`, the sealing migration): a
    message made as it is saved is the one made later from the stored events."""
    for _ in range(3):
        referred = Synthetic().referral("north").payload
        referral_id = referral.receive_referral(referred, "staff form", CASEWORKER)
        referral.start_review(referral_id, CASEWORKER)
        referral.return_referral(referral_id, ["Which school?"], CASEWORKER)
        referral.resubmit_referral(referral_id, "Northtown Primary", CASEWORKER)
    referral.decline_referral(referral_id, DeclineReason.INSUFFICIENT_EVIDENCE, "none", CASEWORKER)

    notifications = referral.recorder.select_notifications(0, 1000)
    states: dict = {}
    wired, _ = outbox.wire_all(
        referral.wire,
        referral.name,
        [referral.mapper.to_domain_event(n) for n in notifications],
        {},
        lambda event: states.get(event.originator_id),
        referral.sealer_for,
        every_state=True,
    )
    again_made = outbox.chain_positions(wired, [n.id for n in notifications], {})

    assert again_made == messages(referral)
    assert len(again_made) == 3 * 4 + 1


def test_each_upstream_position_is_recorded_as_it_comes_and_none_twice(
    breach: BreachService,
) -> None:
    earlier, later = order_granted("ORD-2026-TIER01"), order_granted("ORD-2026-TIER02")

    # partitions interleave an upstream log: the later position may come first
    assert consume(breach, breach.when_order_granted_register_it, later) == []
    assert consume(breach, breach.when_order_granted_register_it, earlier) == []
    before = unchanged(breach)
    assert consume(breach, breach.when_order_granted_register_it, again(earlier)) == []
    breach.when_order_granted_register_it(again(later))  # alone, outside a batch

    positions = [("application", e.sequence or 0) for e in (earlier, later)]
    assert recorder(breach).recorded_positions(positions) == set(positions)
    assert unchanged(breach) == before


def test_a_write_racing_another_for_the_same_position_is_refused_whole(
    breach: BreachService,
) -> None:
    """Another replica took the upstream event first: the write that comes second, events
    and position together, is refused, and the policy reads that as done."""
    granted = order_granted()
    assert consume(breach, breach.when_order_granted_register_it, granted) == []
    before = unchanged(breach)
    second = SubjectBreaches(subject_nominal_id=person(3).nominal_id)

    breach.save_processed(second, upstream="application", sequence=granted.sequence)

    assert second.id not in breach.repository and unchanged(breach) == before


def test_a_batch_writes_the_consumers_positions_with_its_effects_or_not_at_all(
    breach: BreachService,
) -> None:
    granted = order_granted()
    taken: dict[Stream, int] = {("application", "application.orders.v1", granted.aggregate_id): 9}
    refused = order_allocated("ORD-2026-NOSUCH")

    _, written = breach.process_batch([(breach.when_order_allocated_note_team, refused)], taken)
    assert not written and recorder(breach).arrivals == {}

    _, written = breach.process_batch([(breach.when_order_granted_register_it, granted)], taken)
    assert written and recorder(breach).arrivals == taken


def test_a_change_refused_as_its_batch_is_saved_is_returned_refused_and_the_rest_applied(
    referral: ReferralService,
) -> None:
    """A change about a person whose data was erased is refused only as it is saved (no key
    is left to seal it with), once its policy has run: the batch is then processed an event
    at a time, that event returned refused (for the dead letters), the others applied, and
    what is kept in memory is what the store holds."""
    screen, erased = referral.when_disposal_received_screen_it, person(8).nominal_id
    assert consume(referral, screen, disposal(erased, "CR/ERASED/1")) == []
    referral.erase_subject(erased, "disposal under MoPI review (synthetic)", MANAGER)
    record_id = SubjectRecord.create_id(erased)
    version: int = referral.repository.get(record_id).version

    def open_a_referral_of_the_erased_person(_: object) -> None:
        record = referral.load(record_id)
        record.open_referral(uuid4())
        referral.save(record)

    suspects = [person(number).nominal_id for number in (9, 10)]
    work = [
        (screen, disposal(suspects[0], "CR/ERASED/2")),
        (open_a_referral_of_the_erased_person, disposal(erased, "CR/ERASED/3")),
        (screen, disposal(suspects[1], "CR/ERASED/4")),
    ]
    rejected, _ = referral.process_batch(work, {})

    assert rejected == [(work[1][1], "the person's personal data has been erased")]
    assert all(SuspectDisposals.create_id(s) in referral.repository for s in suspects)
    kept: SubjectRecord = referral.repository.get(record_id)
    assert (kept.version, kept.referrals) == (version, [])


def test_an_aggregate_with_a_snapshot_is_read_from_it_and_the_snapshot_is_sealed(
    referral: ReferralService,
) -> None:
    suspect = person(7).nominal_id
    for number in range(INTERVAL + 2):  # each noted, none flagged: not a sexual offence
        closed = disposal(suspect, f"CR/SNAP/{number:04d}", category="theft", victim=ADULT,
                          disposed_on=dates.today() - timedelta(days=number + 1))  # fmt: skip
        assert referral.when_disposal_received_screen_it(closed) is None
    history_id = SuspectDisposals.create_id(suspect)
    assert referral.snapshots is not None
    [snapshot] = referral.snapshots.recorder.select_events(history_id)

    referral.recent.clear()  # nothing kept in memory: read from the store
    history: SuspectDisposals = referral.repository.get(history_id)

    snapshots_table = cast(BatchRepository, referral.repository).snapshots_table
    read = recorder(referral).select_latest({history_id: 0}, snapshots_table)
    assert [e.originator_version for e in read] == list(range(INTERVAL, INTERVAL + 3))
    assert snapshot.originator_version == INTERVAL
    assert suspect.encode() not in snapshot.state and b"sealed:v1:" in snapshot.state
    assert len(history.disposals) == INTERVAL + 2


def test_what_reads_sql_is_refused_in_memory_saying_so(referral: ReferralService) -> None:
    with pytest.raises(NoSqlInMemory, match="in memory, which has no SQL"):
        referral.keep_projections(QUEUE)


def test_a_service_keeps_in_memory_as_many_aggregates_as_its_settings_allow(
    referral: ReferralService, clock: Clock, keys: SharedKeys
) -> None:
    """What each batch leaves in memory is what the next one need not read again (a
    backlog's suspects come back across the whole of it), up to `recent_aggregates`."""
    backlog = [disposal(f"SYN-TIER-{n:04d}", f"CR/TIER/{n}") for n in range(4)]
    small = ReferralService(
        clock.settings.model_copy(update={"recent_aggregates": 3}), store=InMemory(keys)
    )
    try:
        for service in (referral, small):
            assert consume(service, service.when_disposal_received_screen_it, *backlog) == []
        # each suspect's history, record and the candidate raised; how far screening reaches
        assert len(referral.recent.kept) == 4 * 3 + 1
        assert len(small.recent.kept) == 3
    finally:
        small.close()
