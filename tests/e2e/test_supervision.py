"""`civil-orders up` keeps its stack up: a service or broker killed with SIGKILL comes back by
itself and the next order's alert arrives without anyone typing a command; two stacks
started together never share (or advertise) each other's ports; every log line is JSON."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from civil_orders.client import Client
from civil_orders.demo import accept, alerts_for, grant, refer
from civil_orders.stack import Stack, attached_stack
from civil_orders.synthetic import Synthetic

UP_SECONDS = 120


def start_up(data_dir: Path) -> subprocess.Popen[str]:
    # embedded servers, whatever the test run itself was given
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    return subprocess.Popen(
        [sys.executable, "-m", "civil_orders", "up", "--data-dir", str(data_dir)],
        env=env | {"COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so that a stack that will not stop is killed whole
    )


def attached(data_dir: Path, up: subprocess.Popen[str]) -> Stack | None:
    """The stack `up` runs, once it says so; None if `up` gave up."""
    deadline = time.monotonic() + UP_SECONDS
    while time.monotonic() < deadline:
        if up.poll() is not None:
            return None
        stack = attached_stack(data_dir)
        if stack is not None:
            return stack
        time.sleep(0.5)
    pytest.fail(f"`up` in {data_dir} neither started nor gave up in {UP_SECONDS}s")


def stop(up: subprocess.Popen[str]) -> str:
    if up.poll() is None:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)  # `up` and everything it started
            up.wait()
    return up.stdout.read() if up.stdout else ""


def child(up: subprocess.Popen[str], *words: str) -> psutil.Process:
    for process in psutil.Process(up.pid).children(recursive=True):
        command = " ".join(process.cmdline())
        if all(word in command for word in words):
            return process
    raise LookupError(f"no process of `up` runs {' '.join(words)}")


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen[str], Stack]]:
    data_dir = tmp_path_factory.mktemp("up")
    process = start_up(data_dir)
    stack = attached(data_dir, process)
    if stack is None:
        pytest.fail(f"`up` could not start:\n{stop(process)}")
    yield process, stack
    stop(process)


async def an_alerted_order(stack: Stack, people: Synthetic) -> None:
    async with Client(stack.urls(), stack.bootstrap_servers, stack.database_url) as client:
        referral = await refer(client, people, "north")
        reference = await grant(client, (await accept(client, referral["id"]))["id"])
        await alerts_for(client, "mosovo-north", reference, count=1, seconds=60)


def wait_until(check: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (LookupError, psutil.Error):
            pass
        time.sleep(0.25)
    pytest.fail(f"gave up waiting for {what} after {seconds:.0f}s")


async def test_a_killed_service_is_restarted_on_its_port_and_work_carries_on(
    up: tuple[subprocess.Popen[str], Stack],
) -> None:
    process, stack = up
    killed = child(process, "serve", "referral")
    killed.send_signal(signal.SIGKILL)
    wait_until(lambda: child(process, "serve", "referral").pid != killed.pid, "a new referral")
    wait_until(lambda: attached_stack(stack.data_dir) is not None, "the referral service ready")
    await an_alerted_order(stack, Synthetic(seed=61))

    lines = (stack.data_dir / "supervisor.log").read_text().splitlines()
    said = [json.loads(line) for line in lines]
    assert {"event": "died", "child": "referral"}.items() <= said[0].items()
    assert any(s["event"] == "restarted" and s["child"] == "referral" for s in said)


async def test_a_killed_broker_comes_back_empty_and_the_next_alert_arrives(
    up: tuple[subprocess.Popen[str], Stack],
) -> None:
    process, stack = up
    killed = child(process, "tansu")
    killed.send_signal(signal.SIGKILL)
    wait_until(lambda: child(process, "tansu").pid != killed.pid, "a new broker", seconds=30)
    await an_alerted_order(stack, Synthetic(seed=62))


def test_every_log_line_is_a_json_object(up: tuple[subprocess.Popen[str], Stack]) -> None:
    _, stack = up
    logs = sorted(stack.data_dir.glob("*.log"))
    assert {"tansu.log", "supervisor.log", "referral.log", "web.log"} <= {p.name for p in logs}
    for log in logs:
        for number, line in enumerate(log.read_text().splitlines(), 1):
            assert isinstance(json.loads(line), dict), f"{log.name}:{number}: {line}"


@pytest.mark.timeout(300)  # two whole stacks start at once, and stop, on two cores
def test_two_stacks_started_together_each_work_on_their_own_ports(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    ups = [start_up(first), start_up(second)]
    try:
        stacks = [attached(folder, up) for folder, up in zip((first, second), ups, strict=True)]
        started = [stack for stack in stacks if stack is not None]
        for stack, up in zip(stacks, ups, strict=True):
            if stack is None:  # refusing is allowed, with a clear reason and a failing exit
                assert up.wait(30) != 0
                assert "Could not start the stack" in (up.stdout.read() if up.stdout else "")
        assert started, "neither stack started"
        if len(started) == 2:
            ports = [set(stack.ports.values()) for stack in started]
            assert not ports[0] & ports[1]
            assert started[0].bootstrap_servers != started[1].bootstrap_servers
    finally:
        for up in ups:
            stop(up)
