"""`civil-orders up` keeps its stack up: a service or broker killed with SIGKILL comes back by
itself and the next order's alert arrives without anyone typing a command; two stacks
started together never share (or advertise) each other's ports; every log line is JSON;
Ctrl-C stops each stack and everything it started, even one started with SIGINT ignored.

The module starts its two stacks together once, and the other tests run on them."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from civil_orders.drills.demo import accept, alerts_for, grant, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client
from civil_orders.stack.embedded import Stack, attached_stack, postmaster_pid

# Both stacks start in the first test to run, on two cores.
pytestmark = pytest.mark.timeout(300)

UP_SECONDS = 120
STOP_SECONDS = 60


@dataclass
class Up:
    """One `civil-orders up`, and the stack it runs (None if it refused to start)."""

    folder: Path
    process: subprocess.Popen[str]
    stack: Stack | None = None
    output: str = ""


def start_up(data_dir: Path, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    """`up` as a user starts it; with `sigint_ignored`, as a shell without job control starts
    a command in the background (and the command's children inherit): with SIGINT ignored."""
    # embedded servers, whatever the test run itself was given
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    disposition = signal.SIG_IGN if sigint_ignored else signal.default_int_handler
    inherited = signal.signal(signal.SIGINT, disposition)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "civil_orders", "up", "--data-dir", str(data_dir)],
            env=env | {"COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so that a stack that will not stop is killed whole
        )
    finally:
        signal.signal(signal.SIGINT, inherited)


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


def postmaster(data_dir: Path) -> psutil.Process | None:
    """The embedded PostgreSQL server of `up` in `data_dir` (not among the children of `up`,
    nor in its process group)."""
    pid = postmaster_pid(data_dir)
    try:
        return None if pid is None else psutil.Process(pid)
    except psutil.Error:
        return None


def interrupt(ups: list[Up]) -> list[Up]:
    """Ctrl-C to each `up` still running, all at once; the ones that stopped within
    STOP_SECONDS. Any that did not are killed whole, their PostgreSQL server too."""
    running = [up for up in ups if up.process.poll() is None]
    servers = [postmaster(up.folder) for up in running]
    for up in running:
        up.process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    stopped = []
    for up, server in zip(running, servers, strict=True):
        try:
            up.process.wait(max(0.0, deadline - time.monotonic()))
            stopped.append(up)
        except subprocess.TimeoutExpired:
            os.killpg(up.process.pid, signal.SIGKILL)  # `up` and everything it started
            up.process.wait()
            if server is not None:
                server.kill()
    for up in ups:
        if up.process.stdout and not up.process.stdout.closed:
            up.output += up.process.stdout.read()
            up.process.stdout.close()
    return stopped


@pytest.fixture(scope="module")
def ups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Up]]:
    """Two `up`s started together, the second with SIGINT ignored."""
    folders = [tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")]
    ups = [Up(folder, start_up(folder, sigint_ignored=i == 1)) for i, folder in enumerate(folders)]
    try:
        for up in ups:
            up.stack = attached(up.folder, up.process)
        yield ups
    finally:
        interrupt(ups)


@pytest.fixture
def up(ups: list[Up]) -> tuple[subprocess.Popen[str], Stack]:
    """A stack `up` started and runs, for the tests that kill parts of it."""
    for started in ups:
        if started.stack is not None and started.process.poll() is None:
            return started.process, started.stack
    pytest.fail("neither `up` started:\n" + "\n".join(u.output for u in ups))


def child(up: subprocess.Popen[str], *words: str) -> psutil.Process:
    for process in psutil.Process(up.pid).children(recursive=True):
        command = " ".join(process.cmdline())
        if all(word in command for word in words):
            return process
    raise LookupError(f"no process of `up` runs {' '.join(words)}")


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


def test_two_stacks_started_together_each_work_on_their_own_ports(ups: list[Up]) -> None:
    started = [up.stack for up in ups if up.stack is not None]
    for up in ups:
        if up.stack is None:  # refusing is allowed, with a clear reason and a failing exit
            assert up.process.wait(30) != 0
            up.output += up.process.stdout.read() if up.process.stdout else ""
            assert "Could not start the stack" in up.output
    assert started, "neither stack started"
    if len(started) == 2:
        ports = [{*stack.ports.values(), stack.smtp} for stack in started]
        assert not ports[0] & ports[1]
        assert started[0].bootstrap_servers != started[1].bootstrap_servers


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


def test_every_log_line_is_a_json_object(ups: list[Up]) -> None:
    for stack in (up.stack for up in ups if up.stack is not None):
        logs = sorted(stack.data_dir.glob("*.log"))
        assert {"tansu.log", "supervisor.log", "referral.log", "web.log"} <= {p.name for p in logs}
        for log in logs:
            for number, line in enumerate(log.read_text().splitlines(), 1):
                assert isinstance(json.loads(line), dict), f"{log.name}:{number}: {line}"


def test_ctrl_c_stops_each_stack_and_everything_it_started(ups: list[Up]) -> None:
    running = [up for up in ups if up.stack is not None and up.process.poll() is None]
    assert running, "no stack left running to stop"
    started = {
        up.folder.name: [
            *psutil.Process(up.process.pid).children(recursive=True),
            *filter(None, [postmaster(up.folder)]),
        ]
        for up in running
    }
    stopped = interrupt(running)
    assert [up.folder.name for up in stopped] == [up.folder.name for up in running], (
        f"Ctrl-C did not stop `up` within {STOP_SECONDS}s"
    )
    for up in stopped:
        assert up.process.returncode == 0, up.output
        assert "Stopped." in up.output
        _, alive = psutil.wait_procs(started[up.folder.name], timeout=10)
        assert not alive, f"{up.folder.name} left running: {[p.pid for p in alive]}"
