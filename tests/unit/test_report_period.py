"""`civil-orders report` takes a period only in the years the read models take (as their
`/evaluation` does): a day outside them is refused as a bad parameter, before anything is read."""

from typing import Any

import pytest
from typer.testing import CliRunner

import services.readmodels.evaluation as evaluation
from civil_orders.cli import app


class Read(Exception):
    """The command went on to read the read models."""


@pytest.fixture(autouse=True)
def reading_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    async def connect_and_evaluate(*args: Any) -> None:
        raise Read

    monkeypatch.setattr(evaluation, "connect_and_evaluate", connect_and_evaluate)


def report(start: str, end: str) -> Any:
    period = ["--from", start, "--to", end, "--database-url", "postgresql://never-used/x"]
    return CliRunner().invoke(app, ["report", *period], terminal_width=240)


@pytest.mark.parametrize(
    ("start", "end", "refused"),
    [
        ("2026-01-01", "9999-12-31", "Invalid value for --to: 9999-12-31 is not in the years"),
        ("0001-01-01", "2026-12-31", "Invalid value for --from: 0001-01-01 is not in the years"),
        ("1899-12-31", "2026-12-31", "Invalid value for --from: 1899-12-31 is not in the years"),
        ("2026-01-01", "2200-01-01", "Invalid value for --to: 2200-01-01 is not in the years"),
    ],
)
def test_a_period_outside_the_years_the_read_models_take_is_refused(
    start: str, end: str, refused: str
) -> None:
    shown = report(start, end)

    assert shown.exit_code == 2, shown.exception
    assert f"{refused} 1900 to 2199" in shown.output


def test_a_period_at_the_edges_of_those_years_is_read() -> None:
    assert isinstance(report("1900-01-01", "2199-12-31").exception, Read)
