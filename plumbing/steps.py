"""Writes in steps, for projections that write many events' changes at once.

A projection's handler writes only rows of its own event's aggregate, so the writes of
different aggregates commute: the n-th write of every aggregate is one step, and in a step
each statement runs once for all its rows. An aggregate's writes keep their order; the
server gets a few statements a batch instead of one an event.
"""

from collections import Counter
from collections.abc import Hashable, Iterable
from typing import TypeVar

S = TypeVar("S", bound=Hashable)
A = TypeVar("A")


def in_steps(writes: Iterable[tuple[Hashable, S, A]]) -> list[dict[S, list[A]]]:
    """`writes` (aggregate, statement, its arguments), in their order, as steps: in each, the
    arguments of each statement, its statements in the order first written."""
    steps: list[dict[S, list[A]]] = []
    written: Counter[Hashable] = Counter()
    for aggregate, statement, arguments in writes:
        step = written[aggregate]
        written[aggregate] += 1
        if step == len(steps):
            steps.append({})
        steps[step].setdefault(statement, []).append(arguments)
    return steps
