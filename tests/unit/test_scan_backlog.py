"""A scan reads every row of a backlog file it can, and lists each one it cannot, or that is
wrong, by its line; it counts its candidates in requests that each fit a body the services
take."""

import codecs
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from civil_orders.cli import app
from civil_orders.operations import scan
from civil_orders.operations.scan import Backlog, _bodies_of, read_backlog
from civil_orders.stack import client, embedded
from plumbing.http import MAX_BODY_BYTES


def test_a_backlog_s_crimes_are_counted_in_runs_that_each_fit_a_request_body() -> None:
    references = [f"CR/{n:06d}/{'x' * (n % 300)}" for n in range(12_000)]

    runs = list(_bodies_of(references))

    assert len(runs) > 1
    assert [r for run in runs for r in run] == references
    for run in runs:
        assert len(json.dumps({"crime_references": run})) < MAX_BODY_BYTES


def test_a_small_backlog_is_counted_in_one_request() -> None:
    assert list(_bodies_of(["CR/1/26", "CR/2/26"])) == [["CR/1/26", "CR/2/26"]]
    assert list(_bodies_of([])) == []


HEADER = (
    b"district,crime_reference,outcome_code,offence,offence_category,sexual_offence,"
    b"suspect_nominal_id,victim_age_band,intelligence_flags,disposed_on\n"
)


def _row(reference: str, offence: bytes = b"Exposure") -> bytes:
    return b"north,%s,15,%s,exposure,true,SYN-1,adult,,2025-01-05\n" % (reference.encode(), offence)


def _json_row(reference: str) -> bytes:
    disposal = {"district": "north", "crime_reference": reference, "outcome_code": "15",
                "offence": "Exposure", "offence_category": "exposure", "sexual_offence": True,
                "victim_age_band": "adult", "disposed_on": "2025-01-05"}  # fmt: skip
    return json.dumps(disposal).encode() + b"\n"


def _backlog(tmp_path: Path, name: str, data: bytes) -> Backlog:
    path = tmp_path / name
    path.write_bytes(data)
    return read_backlog(path)


def _references(backlog: Backlog) -> list[str]:
    return [d.crime_reference for d in backlog.disposals]


def test_a_csv_row_not_in_utf8_is_listed_by_its_line_and_the_rest_are_read(tmp_path: Path) -> None:
    latin_1 = _row("CR/2/25", offence="Exposure caf\xe9".encode("latin-1"))

    backlog = _backlog(tmp_path, "north.csv", HEADER + _row("CR/1/25") + latin_1 + _row("CR/3/25"))

    assert _references(backlog) == ["CR/1/25", "CR/3/25"]
    assert backlog.errors == ["north.csv line 3: not UTF-8 text (save the file as UTF-8)"]


def test_a_json_line_not_in_utf8_is_listed_by_its_line_and_the_rest_are_read(
    tmp_path: Path,
) -> None:
    data = _json_row("CR/1/25") + b'{"district": "\xff"}\n' + _json_row("CR/3/25")

    backlog = _backlog(tmp_path, "north.jsonl", data)

    assert _references(backlog) == ["CR/1/25", "CR/3/25"]
    assert backlog.errors == ["north.jsonl line 2: not UTF-8 text (save the file as UTF-8)"]


def test_a_csv_field_too_long_to_read_is_listed_by_its_line_and_the_rest_are_read(
    tmp_path: Path,
) -> None:
    overlong = _row("CR/2/25", offence=b"x" * 200_000)  # over the csv module's 131,072

    backlog = _backlog(tmp_path, "north.csv", HEADER + _row("CR/1/25") + overlong + _row("CR/3/25"))

    assert _references(backlog) == ["CR/1/25", "CR/3/25"]
    assert backlog.errors == ["north.csv line 3: not CSV: field larger than field limit (131072)"]


def test_a_csv_saved_with_a_byte_order_mark_reads_its_header_as_written(tmp_path: Path) -> None:
    backlog = _backlog(tmp_path, "north.csv", codecs.BOM_UTF8 + HEADER + _row("CR/1/25"))

    assert _references(backlog) == ["CR/1/25"]
    assert backlog.errors == []


def test_a_line_that_is_not_json_says_so(tmp_path: Path) -> None:
    backlog = _backlog(tmp_path, "north.jsonl", _json_row("CR/1/25") + b"district: north\n")

    assert _references(backlog) == ["CR/1/25"]
    assert backlog.errors == ["north.jsonl line 2: not JSON: Expecting value at column 1"]


def test_the_scan_command_lists_each_bad_row_as_written_and_screens_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`civil-orders scan --from FILE`: a row not in UTF-8, and one whose field's name looks
    like the console's markup, are listed by line (no traceback), and the rest are screened."""
    path = tmp_path / "north.jsonl"
    path.write_bytes(
        _json_row("CR/1/25") + b'{"district": "caf\xe9"}\n' + b'{"[/district]": "north"}\n'
    )
    screened: list[Backlog] = []

    @contextmanager
    def a_stack(data_dir: Path, console: Any) -> Iterator[Any]:
        yield SimpleNamespace(urls=dict, bootstrap_servers="", database_url="")

    class NoClient:
        def __init__(self, *args: Any) -> None:
            pass

        async def __aenter__(self) -> "NoClient":
            return self

        async def __aexit__(self, *exc: object) -> None:
            pass

    async def run_scan(client: Any, backlog: Backlog, *args: Any) -> dict[str, int]:
        screened.append(backlog)
        return {"disposals": len(backlog.disposals), "candidates": 0}

    monkeypatch.setattr(embedded, "attached_or_running_stack", a_stack)
    monkeypatch.setattr(client, "Client", NoClient)
    monkeypatch.setattr(scan, "scan", run_scan)

    shown = CliRunner().invoke(app, ["scan", "--from", str(path)], terminal_width=240)

    assert shown.exception is None or isinstance(shown.exception, SystemExit), shown.exception
    assert shown.exit_code == 1
    assert "north.jsonl line 2: not UTF-8 text (save the file as UTF-8)" in shown.stdout
    assert "; [/district]: Extra inputs are not permitted" in shown.stdout
    assert [_references(backlog) for backlog in screened] == [["CR/1/25"]]
    assert "2 row(s) were not scanned" in shown.stdout
