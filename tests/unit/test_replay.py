"""A replay reads every service's feed once, page by page, asking for the next page while
the one before it is applied; what a feed stores later is for the replay resumed."""

import asyncio
from typing import Any

from plumbing.rebuild import Replay

PAGE = 2


class Feeds:
    """Each producer's published log, a page at a time, as a service's `/events` gives it:
    (events, the next position, the head). The events here are plain (producer, position)."""

    def __init__(self, **heads: int) -> None:
        self.logs = {producer: list(range(1, head + 1)) for producer, head in heads.items()}
        self.asked: list[tuple[str, int]] = []

    async def feed(self, producer: str, after: int) -> tuple[list[Any], int, int]:
        self.asked.append((producer, after))
        log = self.logs[producer]
        page = [position for position in log if position > after][:PAGE]
        events = [(producer, position) for position in page]
        return events, page[-1] if page else after, len(log)


def read(replay: Replay) -> list[Any]:
    async def pages() -> list[Any]:
        return [page async for page in replay.batches()]

    return asyncio.run(pages())


def test_every_feed_is_read_once_in_order_and_left_at_its_head_without_asking_again() -> None:
    feeds = Feeds(referral=5, application=0, breach=2)
    replay = Replay(feeds.feed, ("referral", "application", "breach"))

    pages = read(replay)

    assert [event for page in pages for event in page] == [
        *(("referral", position) for position in range(1, 6)),
        ("breach", 1),
        ("breach", 2),
    ]
    assert feeds.asked == [
        ("referral", 0),
        ("referral", 2),
        ("referral", 4),
        ("application", 0),
        ("breach", 0),
    ]
    assert (replay.read, replay.total) == (7, 7)


def test_a_resumed_replay_reads_only_what_was_stored_since() -> None:
    feeds = Feeds(referral=3, breach=1)
    replay = Replay(feeds.feed, ("referral", "breach"))
    read(replay)

    feeds.logs["referral"] += [4, 5, 6]
    resumed = replay.resumed()

    assert read(resumed) == [[("referral", 4), ("referral", 5)], [("referral", 6)]]
    assert (resumed.read, resumed.total) == (7, 7)
    assert replay.read == 4  # the first replay stays where it was
