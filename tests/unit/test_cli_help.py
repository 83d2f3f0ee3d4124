"""The tool's help lists each command with its summary as one flowing sentence, not broken where
the docstring happens to break its lines."""

from typer.testing import CliRunner

from civil_orders.cli import app


def test_a_commands_summary_flows_as_one_paragraph_in_the_list() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "240"}, terminal_width=240)

    assert shown.exit_code == 0
    assert "and keep them up: whatever dies is restarted (see supervisor.log)." in shown.stdout


def test_a_subcommands_summary_flows_too() -> None:
    shown = CliRunner().invoke(app, ["projections", "--help"], env={"COLUMNS": "240"})

    assert shown.exit_code == 0
    assert "beside the live ones, then swap them in." in shown.stdout


def test_a_commands_later_paragraphs_flow_in_its_own_help() -> None:
    shown = CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "240"}, terminal_width=240)

    assert shown.exit_code == 0
    assert "Scanning the same disposals again raises no new candidates." in shown.stdout
