"""Browser tests drive Debian's Chromium. On a fresh machine running as root (as CI does) it
is installed with apt-get; anywhere else a missing Chromium fails with what to install."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def find_chromium() -> str | None:
    return shutil.which("chromium") or (str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None)


def install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a Chromium executable, installed first if this machine lacks one."""
    found = find_chromium()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install_chromium()
        found = find_chromium()
    if found is None:
        pytest.fail(
            "The browser tests need Chromium, and it is not installed. On Debian or Ubuntu: "
            "`sudo apt-get update && sudo apt-get install -y chromium` (run as root, these "
            "tests install it themselves)."
        )
    return found
