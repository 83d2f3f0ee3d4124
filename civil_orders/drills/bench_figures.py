"""The benchmark's figures: each measured value beside its baseline from the same run, their
ratio, and issue 12's target; printed as one table per area and written as JSON."""

import math
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from civil_orders.drills.bench_cores import described


@dataclass(frozen=True)
class Target:
    """A bound on a figure's value, or on its ratio to the baseline."""

    bound: float
    at_most: bool = False
    of_ratio: bool = False

    def met_by(self, figure: "Figure") -> bool | None:
        """Whether the figure meets it; None when the figure could not be worked out."""
        measured = figure.ratio if self.of_ratio else figure.value
        if math.isnan(measured):
            return None
        return measured <= self.bound if self.at_most else measured >= self.bound

    def describe(self, unit: str) -> str:
        sign = "≤" if self.at_most else "≥"
        if self.of_ratio:
            return f"ratio {sign} {self.bound:g}"
        return f"{sign} {self.bound:g} {unit}".strip()

    def as_json(self) -> dict[str, Any]:
        return {"of": "ratio" if self.of_ratio else "value", self._bound_key: self.bound}

    @property
    def _bound_key(self) -> str:
        return "at_most" if self.at_most else "at_least"


@dataclass(frozen=True)
class Figure:
    label: str
    value: float
    unit: str
    baseline: float
    target: Target | None = None

    @property
    def ratio(self) -> float:
        """The value over its baseline (for latencies, how many times slower than raw)."""
        return self.value / self.baseline if self.baseline else math.nan

    def as_json(self, baseline_is: str) -> dict[str, Any]:
        return {
            "value": _number(self.value),
            "unit": self.unit,
            "baseline": _number(self.baseline),
            "baseline_is": baseline_is,
            "ratio": _number(self.ratio),
            "target": self.target.as_json() if self.target else None,
            "meets_target": self.target.met_by(self) if self.target else None,
        }


@dataclass
class Area:
    """Figures measured together, all set beside the same kind of baseline; and, where they
    were measured, the cores each process of the stack used meanwhile (`bench_cores`), kept
    under the area's `name`."""

    title: str
    baseline_is: str
    figures: dict[str, Figure] = field(default_factory=dict)
    name: str = ""
    cores: dict[str, float] = field(default_factory=dict)

    @property
    def caption(self) -> str:
        used = f"\ncores used meanwhile: {described(self.cores)}" if self.cores else ""
        return f"baseline: {self.baseline_is}{used}"

    def table(self) -> Table:
        table = Table(title=self.title, caption=self.caption)
        for column in ("measure", "value", "baseline", "ratio", "target"):
            table.add_column(column, justify="left" if column == "measure" else "right")
        for figure in self.figures.values():
            table.add_row(
                figure.label,
                f"{_shown(figure.value)} {figure.unit}",
                _shown(figure.baseline),
                f"{_shown(figure.ratio)}×",
                _target_cell(figure),
            )
        return table


PERCENTILES = (50, 95, 99)


@dataclass
class LatencyArea(Area):
    """Latencies in milliseconds: a row per measure with a column per percentile, and a last
    row for the baseline's own percentiles."""

    baseline_label: str = "baseline"
    rows: list[tuple[str, dict[int, Figure]]] = field(default_factory=list)

    def add_row(self, key: str, label: str, figures: dict[int, Figure]) -> None:
        """Figures by percentile, kept as `<key>_p<percentile>_ms`."""
        self.rows.append((label, figures))
        self.figures |= {f"{key}_p{p}_ms": figure for p, figure in figures.items()}

    def table(self) -> Table:
        table = Table(title=self.title, caption=self.caption)
        table.add_column("measure")
        for column in (*(f"p{p} ms" for p in PERCENTILES), "p50 ratio", "target"):
            table.add_column(column, justify="right")
        for label, figures in self.rows:
            table.add_row(
                label,
                *(_shown(figures[p].value) for p in PERCENTILES),
                f"{_shown(figures[50].ratio)}×",
                ", ".join(f"p{p} {_target_cell(f)}" for p, f in figures.items() if f.target),
            )
        if self.rows:
            baseline = self.rows[0][1]
            table.add_row(self.baseline_label, *(_shown(baseline[p].baseline) for p in PERCENTILES))
        return table


@dataclass
class Report:
    parameters: dict[str, Any]
    areas: list[Area] = field(default_factory=list)
    details: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "figures": {
                key: figure.as_json(area.baseline_is)
                for area in self.areas
                for key, figure in area.figures.items()
            },
            "details": {key: _number(value) for key, value in self.details.items()},
            "cores": {
                area.name: {role: round(share, 3) for role, share in area.cores.items()}
                for area in self.areas
                if area.cores
            },
        }


def _target_cell(figure: Figure) -> str:
    if figure.target is None:
        return ""
    colour = {True: "green", False: "red", None: "dim"}[figure.target.met_by(figure)]
    return f"[{colour}]{figure.target.describe(figure.unit)}[/]"


def _shown(number: float) -> str:
    """Whole numbers from 100 up; below, three significant figures, never with an exponent."""
    if math.isnan(number):
        return "–"
    if abs(number) < 100:
        number = float(f"{number:.3g}")
    if abs(number) >= 100 or number == 0:
        return f"{number:,.0f}"
    return f"{number:.{2 - math.floor(math.log10(abs(number)))}f}"


def _number(value: float) -> float | None:
    """JSON has no NaN: a figure that could not be worked out is null."""
    return None if math.isnan(value) else round(value, 4)
