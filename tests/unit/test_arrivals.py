"""The order gate: whatever order a producer's messages arrive in, each aggregate's events are
taken once each, in the order they were stored, provided the producer sends them all again in
order after a fault (what the outbox relay does)."""

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from plumbing.arrivals import Arrival, Placed, Stream, place_of, sort
from schemas.envelope import Envelope, Payload
from schemas.topics import Topic, topic

ORDERS = topic("application.orders.v1")
TOPIC = ORDERS.name
TAKE, COPY, EARLY = Arrival.TAKE, Arrival.COPY, Arrival.EARLY


def message(
    aggregate: UUID,
    sequence: int | None,
    previous: int | None,
    producer: str = "application",
    on: Topic = ORDERS,
) -> tuple[Topic, Placed | None]:
    return on, Envelope(
        event_id=uuid4(),
        event_type="Something",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer=producer,
        aggregate_id=aggregate,
        aggregate_version=1,
        sequence=sequence,
        previous_sequence=previous,
        correlation_id=uuid4(),
        actor="service:test",
        payload=Payload(),
    )


def test_a_stream_in_order_is_taken_and_its_last_position_moves_on() -> None:
    case = uuid4()
    verdicts, last = sort([message(case, 3, 0), message(case, 7, 3)], {})
    assert verdicts == [TAKE, TAKE]
    assert last == {("application", TOPIC, case): 7}


def test_the_tail_of_a_page_ahead_of_the_replay_is_held_back_then_taken_in_order() -> None:
    case = uuid4()
    stream: Stream = ("application", TOPIC, case)
    # 584 was taken; 586 and 587 reach the new broker before the replay of 584 and 586
    verdicts, moved = sort([message(case, 586, 585), message(case, 587, 586)], {stream: 583})
    assert verdicts == [EARLY, EARLY]
    assert moved == {}
    replay = [message(case, 585, 583), message(case, 586, 585), message(case, 587, 586)]
    verdicts, moved = sort(replay, {stream: 583})
    assert verdicts == [TAKE, TAKE, TAKE]
    assert moved == {stream: 587}


def test_copies_of_what_was_taken_are_passed_over() -> None:
    case = uuid4()
    stream: Stream = ("application", TOPIC, case)
    verdicts, _ = sort([message(case, 3, 0), message(case, 7, 3)], {stream: 7})
    assert verdicts == [COPY, COPY]


def test_streams_are_apart_and_messages_naming_no_position_are_taken_as_they_come() -> None:
    one, other = uuid4(), uuid4()
    verdicts, last = sort(
        [message(one, 9, 4), message(other, 5, 0), message(uuid4(), None, None), (ORDERS, None)],
        {},
    )
    assert verdicts == [EARLY, TAKE, TAKE, TAKE]
    assert last == {("application", TOPIC, other): 5}


def test_a_district_topic_is_not_ordered_whatever_positions_its_messages_name() -> None:
    """A district system's message is no position in a log of ours: were it ordered, an
    earlier-numbered referral would be passed over as a copy, or one held back for ever."""
    referrals, system = topic("district.referrals.v1"), uuid4()
    sent = [message(system, 8, 7, "district:north", referrals) for _ in range(2)]
    sent += [message(system, 7, 6, "district:north", referrals)]

    verdicts, last = sort(sent, {("district:north", referrals.name, system): 7})

    assert verdicts == [TAKE, TAKE, TAKE]
    assert last == {}


def test_a_message_that_is_not_a_valid_envelope_is_placed_by_its_envelopes_fields() -> None:
    """So that its position is taken once it is dead-lettered (see `test_order_gate`), unless
    those fields are not valid either, or could not be recorded."""
    case = uuid4()

    def raw(producer: str = "application", sequence: int = 10) -> bytes:
        fields = {"producer": producer, "aggregate_id": str(case), "sequence": sequence}
        return json.dumps({**fields, "previous_sequence": 9, "payload": {"unknown": 1}}).encode()

    place = place_of(raw())
    assert place is not None and (place.sequence, place.previous_sequence) == (10, 9)
    verdicts, last = sort([(ORDERS, place)], {("application", TOPIC, case): 9})
    assert (verdicts, last) == ([TAKE], {("application", TOPIC, case): 10})
    for unplaced in (b"not json", raw(sequence=2**63), raw(producer="app\x00lication")):
        assert place_of(unplaced) is None


def test_messages_published_before_they_named_their_predecessor_move_the_stream_on() -> None:
    case = uuid4()
    verdicts, last = sort([message(case, 4, None), message(case, 9, 4)], {})
    assert verdicts == [TAKE, TAKE]
    assert last == {("application", TOPIC, case): 9}


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[int], list[list[int]]]:
    """One aggregate's positions as stored, and what reaches the consumer in batches: any
    tail of them (a page in flight when the broker was replaced), then the producer's
    replay of all of them, maybe more than once, split into batches anywhere."""
    positions = sorted(draw(st.sets(st.integers(1, 10_000), min_size=1, max_size=12)))
    stale = positions[draw(st.integers(0, len(positions))) :]
    replays = draw(st.integers(1, 2))
    arriving = stale + positions * replays
    cuts = sorted(draw(st.lists(st.integers(0, len(arriving)), max_size=6)))
    batches = [arriving[a:b] for a, b in zip([0, *cuts], [*cuts, len(arriving)], strict=True)]
    return positions, batches


@given(deliveries())
def test_every_event_is_taken_once_in_stored_order_however_it_arrives(
    case: tuple[list[int], list[list[int]]],
) -> None:
    positions, batches = case
    aggregate = uuid4()
    previous = dict(zip(positions, [0, *positions], strict=False))
    last: dict[Stream, int] = {}
    taken: list[int] = []
    for batch in batches:
        verdicts, moved = sort([message(aggregate, n, previous[n]) for n in batch], last)
        last |= moved
        taken += [n for n, verdict in zip(batch, verdicts, strict=True) if verdict is TAKE]
    assert taken == positions
