"""The bench's count of the cores each process of the stack used while an area ran."""

import os
import subprocess
import sys
import time

import psutil

from civil_orders.drills.bench_cores import CoreMeter

# burns half a second of CPU; then, given WAIT, stays until its stdin closes
BURN = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\n"
WAIT = "import sys\nsys.stdin.read()\n"


def test_a_service_is_counted_under_the_name_it_serves() -> None:
    # a stand-in for `python -m civil_orders serve NAME`, alive when the count ends
    command = [sys.executable, "-c", BURN + WAIT, "serve", "screening-stand-in"]
    service = subprocess.Popen(command, stdin=subprocess.PIPE)
    try:
        burning = psutil.Process(service.pid)
        with CoreMeter(os.getpid(), own_role="driver") as meter:
            deadline = time.monotonic() + 10
            while sum(burning.cpu_times()[:2]) < 0.45 and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        service.communicate(b"")
    assert max(meter.cores, key=meter.cores.__getitem__) == "screening-stand-in", meter.cores
    assert meter.cores["screening-stand-in"] > 0.2


def test_a_child_that_ended_meanwhile_counts_to_the_process_that_reaped_it() -> None:
    # as PostgreSQL's backends that end during an area count to PostgreSQL
    with CoreMeter(os.getpid(), own_role="driver") as meter:
        subprocess.run([sys.executable, "-c", BURN], check=True)
    assert meter.cores["driver"] > 0.2, meter.cores


def test_a_server_running_on_its_own_is_counted_when_named_as_a_root() -> None:
    # as the embedded PostgreSQL's postmaster: started through a process that exited, so it
    # descends from no process of the stack's; it waits a moment, burns, then idles
    server_code = "import time\ntime.sleep(0.3)\n" + BURN + "time.sleep(60)\n"
    detach = (
        "import os, subprocess, sys\n"
        f"server = subprocess.Popen([sys.executable, '-c', {server_code!r}, 'serve', 'server'],"
        " stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,"
        " start_new_session=True)\n"
        "print(server.pid, flush=True)\n"
    )
    started = subprocess.run([sys.executable, "-c", detach], capture_output=True, text=True)
    server = psutil.Process(int(started.stdout))
    try:
        assert server.pid not in {child.pid for child in psutil.Process().children(True)}
        with CoreMeter(os.getpid(), server.pid, own_role="driver") as meter:
            deadline = time.monotonic() + 10
            while sum(server.cpu_times()[:2]) < 0.45 and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        server.kill()
    assert meter.cores["server"] > 0.2, meter.cores
