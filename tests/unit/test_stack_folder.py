"""One stack at a time runs from a data folder: a second, even while the first is still
starting, is refused with what to do, and the folder is free again once the first stops."""

from pathlib import Path

import pytest

from civil_orders.stack.embedded import StackError, folder_busy, folder_held


def test_a_second_stack_in_a_folder_in_use_is_refused_until_the_first_stops(
    tmp_path: Path,
) -> None:
    assert not folder_busy(tmp_path / "never-used")

    with folder_held(tmp_path):
        assert folder_busy(tmp_path)
        with (
            pytest.raises(StackError, match="already running \\(or starting\\)"),
            folder_held(tmp_path),
        ):
            pass

    assert not folder_busy(tmp_path)
    with folder_held(tmp_path):
        pass
