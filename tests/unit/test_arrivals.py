"""The order gate: whatever order a producer's messages arrive in, each aggregate's events are
taken once each, in the order they were stored, provided the producer sends them all again in
order after a fault (what the outbox relay does)."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from plumbing.arrivals import Arrival, Stream, sort
from schemas.envelope import Envelope, Payload

TOPIC = "application.orders.v1"
TAKE, COPY, EARLY = Arrival.TAKE, Arrival.COPY, Arrival.EARLY


def message(
    aggregate: UUID, sequence: int | None, previous: int | None, producer: str = "application"
) -> tuple[str, Envelope]:
    return TOPIC, Envelope(
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
        [message(one, 9, 4), message(other, 5, 0), message(uuid4(), None, None, "district:north")],
        {},
    )
    assert verdicts == [EARLY, TAKE, TAKE]
    assert last == {("application", TOPIC, other): 5}


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
