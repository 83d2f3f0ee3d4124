"""A scan counts its candidates in requests that each fit a body the services take."""

import json

from civil_orders.operations.scan import _bodies_of
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
