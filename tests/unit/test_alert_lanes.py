"""The dispatcher's lanes: each team's alerts in the order raised, a lane held up by a team's
system holding up only its own, and work that fails tried again until it is done."""

import threading

from services.notification.dispatch import Lanes, lane
from tests.waiting import eventually

LANES = "the lanes' work done"


def test_a_lane_held_up_holds_up_only_its_own_work_which_then_goes_in_order() -> None:
    lanes, sent, hung = Lanes(retry_seconds=0.01), [], threading.Event()

    def hanging() -> None:
        hung.wait(5)
        sent.append("east 1")

    lanes.hand(lane("mosovo-east", False), hanging)
    lanes.hand(lane("mosovo-east", False), lambda: sent.append("east 2"))
    lanes.hand(lane("mosovo-east", True), lambda: sent.append("east escalation"))
    lanes.hand(lane("mosovo-north", False), lambda: sent.append("north 1"))
    try:
        eventually(lambda: len(sent) == 2, LANES, 5.0)
        assert sorted(sent) == ["east escalation", "north 1"]
        hung.set()
        eventually(lambda: len(sent) == 4, LANES, 5.0)
        assert sent[2:] == ["east 1", "east 2"]
    finally:
        hung.set()
        lanes.stop()


def test_work_that_fails_is_tried_again_until_it_is_done_and_the_next_waits_for_it() -> None:
    lanes, sent, failures = Lanes(retry_seconds=0.01), [], [RuntimeError("database away")] * 2

    def recording() -> None:
        if failures:
            raise failures.pop()
        sent.append("first")

    lanes.hand("mosovo-north", recording)
    lanes.hand("mosovo-north", lambda: sent.append("second"))
    try:
        eventually(lambda: len(sent) == 2, LANES, 5.0)
        assert (sent, failures) == (["first", "second"], [])
    finally:
        lanes.stop()
