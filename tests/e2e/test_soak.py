"""A short soak: cases through the whole path while services, the broker and PostgreSQL fail
at random; nothing lost, nothing alerted twice, every invariant holds (`civil-orders soak`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.timeout(480)
def test_a_short_soak_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    external = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")  # it injects faults into its own
    env = {k: v for k, v in os.environ.items() if k not in external} | {"COLUMNS": "200"}
    command = ["soak", "--minutes", "0.5", "--faults-every", "5", "--seed", "7"]
    done = subprocess.run(
        [sys.executable, "-m", "civil_orders", *command, "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=450,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-4000:]
    assert "lost: 0; duplicated: 0" in said, said[-4000:]
    faults = next(line for line in said.splitlines() if line.startswith("faults injected:"))
    assert int(faults.split()[2]) >= 3, faults
