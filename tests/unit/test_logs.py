"""Every log line a process writes is one JSON object, the libraries' lines too."""

import json
import logging
import sys

import pytest
import structlog

from plumbing.logs import configure_logging


def test_faststreams_own_logger_writes_json_lines_naming_the_service(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    configure_logging("breach")
    try:
        logging.getLogger("faststream").critical("CommitFailedError('the group has rebalanced')")
    finally:
        logging.getLogger().handlers = []
        structlog.reset_defaults()
    [line] = capsys.readouterr().err.splitlines()
    logged = json.loads(line)
    assert logged["event"] == "CommitFailedError('the group has rebalanced')"
    assert (logged["service"], logged["level"], logged["logger"]) == (
        "breach",
        "critical",
        "faststream",
    )
