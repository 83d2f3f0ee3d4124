"""The supervisor restarts what dies, backing off while it keeps dying, trusts again what has
run a while, and gives up, saying so, on what cannot stay up."""

import json
from pathlib import Path
from typing import Any, cast

from civil_orders.stack.embedded import Stack
from civil_orders.stack.supervisor import GIVE_UP_AFTER, STEADY_SECONDS, Supervisor


class Children:
    """Stands in for the stack: children that die when told, and count their restarts."""

    def __init__(self, data_dir: Path, *names: str) -> None:
        self.data_dir = data_dir
        self.exit_codes: dict[str, int | None] = dict.fromkeys(names)
        self.restarted: list[str] = []
        self.broken: set[str] = set()  # these die again as soon as they are started

    def children(self) -> dict[str, int | None]:
        return dict(self.exit_codes)

    def restart(self, name: str) -> None:
        self.restarted.append(name)
        self.exit_codes[name] = 1 if name in self.broken else None

    def log_file(self, name: str) -> Path:
        return self.data_dir / f"{name}.log"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def supervising(children: Children, clock: Clock, said: list[str]) -> Supervisor:
    return Supervisor(cast(Stack, children), said.append, clock)


def logged(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "supervisor.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_child_that_dies_is_restarted_after_a_second(tmp_path: Path) -> None:
    children, clock, said = Children(tmp_path, "referral", "kafka"), Clock(), list[str]()
    supervisor = supervising(children, clock, said)

    children.exit_codes["referral"] = -9
    supervisor.check()
    clock.now += 0.5
    supervisor.check()
    assert children.restarted == []  # still backing off
    clock.now += 0.6
    supervisor.check()

    assert children.restarted == ["referral"]
    assert said == [
        f"referral died (exit -9); restarting in 1s; see {tmp_path / 'referral.log'}",
        "referral restarted",
    ]
    assert [(e["event"], e["child"]) for e in logged(tmp_path)] == [
        ("died", "referral"),
        ("restarted", "referral"),
    ]


def test_the_backoff_doubles_while_it_keeps_dying_and_resets_once_it_has_settled(
    tmp_path: Path,
) -> None:
    children, clock, said = Children(tmp_path, "breach"), Clock(), list[str]()
    supervisor = supervising(children, clock, said)
    waits = []
    for _ in range(3):
        children.exit_codes["breach"] = 1
        supervisor.check()
        waits.append(said[-1].split("restarting in ")[1].split("s;")[0])
        clock.now += 10  # restarted, and dies again soon after
        supervisor.check()
    assert waits == ["1", "2", "4"]

    clock.now += STEADY_SECONDS  # it has run steadily: trusted again
    supervisor.check()
    children.exit_codes["breach"] = 1
    supervisor.check()
    assert "restarting in 1s" in said[-1]


def test_a_child_that_cannot_stay_up_stops_the_supervisor_with_the_reason(
    tmp_path: Path,
) -> None:
    children, clock, said = Children(tmp_path, "notification"), Clock(), list[str]()
    children.broken.add("notification")
    supervisor = supervising(children, clock, said)

    children.exit_codes["notification"] = 1
    for _ in range(GIVE_UP_AFTER * 6):
        supervisor.check()
        clock.now += 5

    assert len(children.restarted) == GIVE_UP_AFTER - 1
    assert supervisor.gave_up is not None
    assert supervisor.gave_up.startswith(f"notification cannot stay up: it died {GIVE_UP_AFTER}")
    assert logged(tmp_path)[-1]["event"] == "gave up"
