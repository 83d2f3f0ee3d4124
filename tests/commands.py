"""Running the civil-orders command line against a test stack, as a user would."""

import subprocess
import sys

from civil_orders.stack.embedded import Stack


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civil_orders", *args],
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
