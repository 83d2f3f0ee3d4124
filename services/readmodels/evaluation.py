"""The evaluation of the practice over a period, from the read models: referrals, conversion,
orders obtained, time to order, breaches and how concentrated they are among subjects, live
orders and renewals due, and the sections of their own modules (capacity, the what-if
simulation, outcomes, disposals around orders, outreach); as an HTML document with charts and
as one tidy CSV.

Subjects appear by rank (subject 1 breached most), never by nominal: an evaluation is read
and published far beyond the people who manage the orders.
"""

import asyncio
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from math import ceil
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

import asyncpg
import pygal
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from pygal.style import Style

from services.readmodels.capacity import Capacity, capacity, fetch_candidates, fetch_cases
from services.readmodels.disposals import CAVEATS as DISPOSAL_CAVEATS
from services.readmodels.disposals import DisposalsAround, fetch_disposals_around
from services.readmodels.documents import write_pdf
from services.readmodels.orders import in_force_on
from services.readmodels.outcomes import (
    Outcomes,
    Step,
    fetch_spells,
    outcomes,
    without_breach_after,
)
from services.readmodels.outreach import MONTHS, Outreach, Window, fetch_outreach
from services.readmodels.settings import STAFF_COST, EvaluationSettings
from services.readmodels.simulation import WhatIf, fit, what_if

LOCAL_TIME = "Europe/London"  # a breach belongs to the day it happened in the force's area
PROACTIVE = "proactive scan"
FULL_ORDER_TYPES = ("SRO", "SHPO")
ORDER_TYPES = (*FULL_ORDER_TYPES, "interim SRO", "interim SHPO")
ALL = "all"
SOURCE = f"CASE WHEN r.source = '{PROACTIVE}' THEN '{PROACTIVE}' ELSE 'district' END"
SCOPE = f"CASE WHEN grouping(order_type) = 1 THEN '{ALL}' ELSE order_type END"

Table = dict[str, dict[str, int]]  # row -> column -> count
Figures = dict[str, float | None]  # measure -> value (None where it cannot be worked out)
V = TypeVar("V")


@dataclass(frozen=True)
class Evaluation:
    """Every figure for the period [start, end], with conversion counted up to `today`.

    Keys of `conversion` are referral sources or 'all'; keys of `time_to_order`, `breaches`
    and `breaches_per_subject` are order types or 'all'.
    """

    start: date
    end: date
    today: date
    referrals: Table  # district -> source ('district' or 'proactive scan') -> referrals
    conversion: dict[str, Figures]
    orders: Table  # month (YYYY-MM) -> full order type -> orders made
    interim_orders: dict[str, int]  # interim order type -> orders made
    time_to_order: dict[str, Figures]  # days from referral to order: quartiles and extremes
    breaches: dict[str, Figures]
    breaches_per_subject: dict[str, list[int]]  # breaches of each subject, most first
    live_orders: Table  # district -> order type -> orders in force now
    renewals_due: Table  # district -> order type -> renewal reviews due now
    capacity: Capacity
    what_if: WhatIf | None  # None when the period has too little to fit a simulation to
    outcomes: Outcomes
    disposals: DisposalsAround  # of people under an order, before and after it
    outreach: Outreach

    @property
    def orders_by_type(self) -> dict[str, int]:
        return column_totals(self.orders)


@dataclass(frozen=True)
class Costing:
    """What the staff cost: each caseworker's yearly cost, and how many caseworkers to cost
    (None: those who held a case in the period)."""

    staff_cost_per_caseworker: float = STAFF_COST
    caseworkers: int | None = None

    @classmethod
    def from_settings(
        cls, settings: EvaluationSettings, caseworkers: int | None = None
    ) -> "Costing":
        return cls(settings.staff_cost_per_caseworker, caseworkers)


async def connect_and_evaluate(
    database_url: str,
    start: date,
    end: date,
    today: date,
    costing: Costing = Costing(),
    outreach_months: int = MONTHS,
) -> Evaluation:
    connection = await asyncpg.connect(database_url)
    try:
        return await evaluate(connection, start, end, today, costing, outreach_months)
    finally:
        await connection.close()


async def evaluate(
    connection: asyncpg.Connection,
    start: date,
    end: date,
    today: date,
    costing: Costing = Costing(),
    outreach_months: int = MONTHS,
) -> Evaluation:
    """Every figure from one snapshot of the read models; each outreach session is set
    beside the `outreach_months` months before and after it."""
    db = connection
    async with db.transaction(isolation="repeatable_read", readonly=True):
        live = await _live(db, today)
        per_subject = await _breaches_per_subject(db, start, end)
        cases, candidates = await fetch_cases(db, end), await fetch_candidates(db, start, end)
        staffing = capacity(
            cases, candidates, start, end, costing.staff_cost_per_caseworker, costing.caseworkers
        )
        forecast = await asyncio.to_thread(what_if, fit(cases, staffing, start, end))
        return Evaluation(
            start=start,
            end=end,
            today=today,
            referrals=await _referrals(db, start, end),
            conversion=await _conversion(db, start, end, today),
            orders=await _orders_by_month(db, start, end),
            interim_orders=await _interim_orders(db, start, end),
            time_to_order=await _time_to_order(db, start, end),
            breaches=await _breaches(db, start, end, per_subject),
            breaches_per_subject=per_subject,
            live_orders=_table(live, "district", "order_type", "live"),
            renewals_due=_table(live, "district", "order_type", "due"),
            capacity=staffing,
            what_if=forecast,
            outcomes=_in_usual_order(outcomes(await fetch_spells(db, end), start, end)),
            disposals=_disposals_in_usual_order(await fetch_disposals_around(db, start, end)),
            outreach=await fetch_outreach(db, start, end, outreach_months),
        )


async def _referrals(db: asyncpg.Connection, start: date, end: date) -> Table:
    rows = await db.fetch(
        f"""SELECT coalesce(r.district, 'not recorded') AS district, {SOURCE} AS source,
                   count(*) AS n
            FROM rm_caseload.referrals r WHERE r.referred_on BETWEEN $1 AND $2
            GROUP BY 1, 2 ORDER BY 1, 2""",
        start, end,
    )  # fmt: skip
    return _table(rows, "district", "source", "n")


async def _conversion(
    db: asyncpg.Connection, start: date, end: date, today: date
) -> dict[str, Figures]:
    rows = await db.fetch(
        f"""SELECT CASE WHEN grouping(source) = 1 THEN '{ALL}' ELSE source END AS source,
                   count(*) AS referrals, count(*) FILTER (WHERE applied) AS applications,
                   count(*) FILTER (WHERE ordered) AS orders,
                   count(*) FILTER (WHERE status = 'declined') AS declined
            FROM (SELECT {SOURCE} AS source, r.status,
                    EXISTS (SELECT 1 FROM rm_caseload.applications a
                            WHERE a.referral_id = r.referral_id AND (a.opened_at IS NULL
                              OR (a.opened_at AT TIME ZONE '{LOCAL_TIME}')::date <= $3)
                    ) AS applied,
                    EXISTS (SELECT 1 FROM rm_caseload.applications a
                            JOIN rm_orders.orders o USING (application_id)
                            WHERE a.referral_id = r.referral_id AND NOT o.interim
                              AND o.made_on <= $3) AS ordered
                  FROM rm_caseload.referrals r WHERE r.referred_on BETWEEN $1 AND $2) x
            GROUP BY ROLLUP (source) ORDER BY grouping(source), source""",
        start, end, today,
    )  # fmt: skip
    return {row["source"]: _conversion_rates(dict(row)) for row in rows}


def _conversion_rates(row: dict[str, Any]) -> Figures:
    referrals, applications, orders = row["referrals"], row["applications"], row["orders"]
    return {
        "referrals received": referrals,
        "became applications": applications,
        "obtained a full order": orders,
        "declined": row["declined"],
        "share of referrals that became applications": share(applications, referrals),
        "share of referrals that obtained a full order": share(orders, referrals),
        "share of applications that obtained a full order": share(orders, applications),
    }


async def _orders_by_month(db: asyncpg.Connection, start: date, end: date) -> Table:
    """Full orders the casework obtained in each month of the period, every month and type
    shown (not an SHPO a court made on conviction: no application of ours preceded it)."""
    rows = await db.fetch(
        """SELECT to_char(month, 'YYYY-MM') AS month, t.order_type, count(o.order_reference) AS n
           FROM generate_series(date_trunc('month', $1::date::timestamp),
                                date_trunc('month', $2::date::timestamp),
                                interval '1 month') AS month
           CROSS JOIN unnest($3::text[]) WITH ORDINALITY AS t(order_type, position)
           LEFT JOIN rm_orders.orders o ON o.order_type = t.order_type AND NOT o.interim
                AND o.application_id IS NOT NULL AND o.made_on BETWEEN $1 AND $2
                AND date_trunc('month', o.made_on::timestamp) = month
           GROUP BY month, t.order_type, t.position ORDER BY month, t.position""",
        start, end, list(FULL_ORDER_TYPES),
    )  # fmt: skip
    return _table(rows, "month", "order_type", "n")


async def _interim_orders(db: asyncpg.Connection, start: date, end: date) -> dict[str, int]:
    rows = await db.fetch(
        """SELECT order_type, count(*) AS n FROM rm_orders.orders
           WHERE interim AND made_on BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1""",
        start,
        end,
    )
    return {row["order_type"]: row["n"] for row in rows}


async def _time_to_order(db: asyncpg.Connection, start: date, end: date) -> dict[str, Figures]:
    """Days from the referral to each full order made in the period; quartiles interpolated."""
    rows = await db.fetch(
        f"""SELECT {SCOPE} AS scope, count(*) AS orders, min(days) AS minimum,
                   percentile_cont(0.25) WITHIN GROUP (ORDER BY days) AS lower_quartile,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median,
                   percentile_cont(0.75) WITHIN GROUP (ORDER BY days) AS upper_quartile,
                   max(days) AS maximum
            FROM (SELECT o.order_type, o.made_on - r.referred_on AS days
                  FROM rm_orders.orders o
                  JOIN rm_caseload.applications a USING (application_id)
                  JOIN rm_caseload.referrals r ON r.referral_id = a.referral_id
                  WHERE NOT o.interim AND o.made_on BETWEEN $1 AND $2) x
            GROUP BY ROLLUP (order_type) ORDER BY grouping(order_type), order_type""",
        start, end,
    )  # fmt: skip
    return _by_scope(
        {
            row["scope"]: {
                "orders": row["orders"],
                "fewest days": row["minimum"],
                "lower quartile days": row["lower_quartile"],
                "median days": row["median"],
                "upper quartile days": row["upper_quartile"],
                "most days": row["maximum"],
            }
            for row in rows
        }
    )


BREACHES_IN_PERIOD = f"""
    WITH b AS (
        SELECT b.order_reference, s.subject,
               coalesce(s.order_type, 'not known') AS order_type
        FROM rm_breaches.breaches b LEFT JOIN rm_breaches.order_subjects s USING (order_reference)
        WHERE (b.occurred_at AT TIME ZONE '{LOCAL_TIME}')::date BETWEEN $1 AND $2)
"""


async def _breaches(
    db: asyncpg.Connection, start: date, end: date, per_subject: dict[str, list[int]]
) -> dict[str, Figures]:
    counts = await db.fetch(
        f"""{BREACHES_IN_PERIOD}
            SELECT {SCOPE} AS scope, count(*) AS breaches,
                   count(DISTINCT order_reference) AS orders, count(DISTINCT subject) AS subjects
            FROM b GROUP BY ROLLUP (order_type)""",
        start, end,
    )  # fmt: skip
    in_force = await _orders_in_force_during(db, start, end)
    top = {scope: counts[0] for scope, counts in per_subject.items()}
    found = {row["scope"]: row for row in counts if row["breaches"]}
    return _by_scope(
        {
            scope: _breach_figures(found.get(scope), in_force.get(scope, 0), top.get(scope, 0))
            for scope in {*found, *in_force}
        }
    )


def _breach_figures(counts: Any, in_force: int, top: int) -> Figures:
    breaches = counts["breaches"] if counts else 0
    return {
        "breaches": breaches,
        "orders in force during the period": in_force,
        "breaches per order in force": share(breaches, in_force),
        "orders with at least one breach": counts["orders"] if counts else 0,
        "subjects with at least one breach": counts["subjects"] if counts else 0,
        "breaches by the most-breaching subject": top,
        "share of breaches by the most-breaching subject": share(top, breaches),
    }


async def _orders_in_force_during(db: asyncpg.Connection, start: date, end: date) -> dict[str, int]:
    """Orders (interim ones under their own type) in force on any day of the period: each over
    from the day it ended, or from its end date."""
    rows = await db.fetch(
        f"""SELECT {SCOPE} AS scope, count(*) AS n FROM rm_orders.orders
            WHERE made_on <= $2 AND coalesce(ended_on, ends_on, 'infinity'::date) > $1
            GROUP BY ROLLUP (order_type)""",
        start, end,
    )  # fmt: skip
    return {row["scope"]: row["n"] for row in rows if row["n"]}


async def _breaches_per_subject(
    db: asyncpg.Connection, start: date, end: date
) -> dict[str, list[int]]:
    rows = await db.fetch(
        f"""{BREACHES_IN_PERIOD}
            SELECT {SCOPE} AS scope, count(*) AS n FROM b WHERE subject IS NOT NULL
            GROUP BY GROUPING SETS ((order_type, subject), (subject))
            ORDER BY scope, n DESC""",
        start, end,
    )  # fmt: skip
    ranked: dict[str, list[int]] = {}
    for row in rows:
        ranked.setdefault(row["scope"], []).append(row["n"])
    return _by_scope(ranked)


async def _live(db: asyncpg.Connection, today: date) -> list[asyncpg.Record]:
    """Orders in force `today`, by district and type."""
    return await db.fetch(
        f"""SELECT district, order_type, count(*) AS live,
                  count(*) FILTER (WHERE renewal_review_due) AS due
           FROM rm_orders.orders WHERE {in_force_on("$1")}
           GROUP BY 1, 2 ORDER BY 1, 2""",
        today,
    )


def _in_usual_order(found: Outcomes) -> Outcomes:
    return Outcomes(
        _by_scope(found.rates), _by_scope(found.survival), _by_scope(found.orders_followed)
    )


def _disposals_in_usual_order(found: DisposalsAround) -> DisposalsAround:
    return DisposalsAround(_by_scope(found.figures), found.first_on_record, found.before_the_record)


def _table(rows: Sequence[Any], row: str, column: str, value: str) -> Table:
    table: Table = {}
    for record in rows:
        table.setdefault(record[row], {})[record[column]] = record[value]
    return table


def _type_order(name: str) -> tuple[int, str]:
    """Order types and sources in their usual order, anything unexpected next, 'all' last."""
    known = (*ORDER_TYPES, "district", PROACTIVE)
    rank = known.index(name) if name in known else len(known) + (name == ALL)
    return rank, name


def _by_scope(figures: dict[str, V]) -> dict[str, V]:
    return {scope: figures[scope] for scope in sorted(figures, key=_type_order)}


def share(part: float, whole: float | None) -> float | None:
    return part / whole if whole else None


def columns_of(table: Table) -> list[str]:
    return sorted({column for cells in table.values() for column in cells}, key=_type_order)


def row_totals(table: Table) -> dict[str, int]:
    return {row: sum(cells.values()) for row, cells in table.items()}


def column_totals(table: Table) -> dict[str, int]:
    return {c: sum(cells.get(c, 0) for cells in table.values()) for c in columns_of(table)}


# --- the CSV: one row per figure -------------------------------------------------------------

PIVOTS = (  # section, measure, attribute, row dimension, column dimension
    ("referrals", "referrals received", "referrals", "district", "source"),
    ("orders", "full orders obtained", "orders", "month", "type"),
    ("live orders", "orders in force", "live_orders", "district", "type"),
    ("renewals due", "renewal reviews due", "renewals_due", "district", "type"),
)
CSV_COLUMNS = ("section", "measure", "dimension", "value")


def figures(evaluation: Evaluation) -> Iterator[tuple[str, str, str, str]]:
    """Every figure the HTML shows, as (section, measure, dimension, value)."""
    for measure, day in (("from", evaluation.start), ("to", evaluation.end)):
        yield "period", measure, "", day.isoformat()
    yield "period", "as of", "", evaluation.today.isoformat()
    for section, measure, attribute, row_name, column_name in PIVOTS:
        cells = _pivot_cells(getattr(evaluation, attribute), row_name, column_name)
        yield from ((section, measure, dimension, str(n)) for dimension, n in cells)
    yield from _scoped(evaluation.conversion, "conversion", "source")
    yield from _scoped(evaluation.time_to_order, "time from referral to order", "type")
    yield from _scoped(evaluation.breaches, "breaches", "type")
    for interim_type, count in evaluation.interim_orders.items():
        yield "interim orders", "interim orders made", f"type={interim_type}", str(count)
    for scope, counts in evaluation.breaches_per_subject.items():
        for rank, count in enumerate(counts, start=1):
            yield "breaches per subject", "breaches", f"type={scope}; subject={rank}", str(count)
    yield from _capacity_figures(evaluation.capacity)
    if evaluation.what_if:
        yield from _what_if_figures(evaluation.what_if)
    yield from _outcome_figures(evaluation.outcomes)
    yield from _disposal_figures(evaluation.disposals)
    yield from _outreach_figures(evaluation.outreach)


def _outcome_figures(o: Outcomes) -> Iterator[tuple[str, str, str, str]]:
    yield from _scoped(o.rates, "breach rates", "type")
    for scope, steps in o.survival.items():
        for measure, value in survival_summary(steps).items():
            yield "time to first breach", measure, f"type={scope}", number(value)
        for step in steps:
            dimension = f"type={scope}; day={step.day}"
            for measure, n in (("at risk", step.at_risk), ("breached", step.breached),
                               ("censored", step.censored),
                               ("share without a breach", step.without_breach)):  # fmt: skip
                yield "time to first breach", measure, dimension, number(n)


def _disposal_figures(d: DisposalsAround) -> Iterator[tuple[str, str, str, str]]:
    section = "disposals around orders"
    yield from _scoped(d.figures, section, "type")
    first = d.first_on_record.isoformat() if d.first_on_record else ""
    yield section, "first disposal on record", "", first
    early = "people whose window before starts before the first on record"
    yield section, early, "", str(d.before_the_record)
    for n, caveat in enumerate(DISPOSAL_CAVEATS, start=1):
        yield section, "caveat", f"caveat={n}", caveat


def _outreach_figures(o: Outreach) -> Iterator[tuple[str, str, str, str]]:
    yield "outreach", "months before and after each session", "", str(o.months)
    for compared in o.sessions:
        s = compared.session
        session = f"district={s.district}; held_on={s.held_on}; audience={s.audience}"
        for side in ("before", "after"):
            for measure, value in window_figures(getattr(compared, side)).items():
                yield "outreach", f"{measure} {side}", session, number(value)
    for measure, table in (("district referrals made", o.referrals), ("sessions held", o.held)):
        if o.sessions:
            cells = _pivot_cells(table, "month", "district")
            yield from (("outreach", measure, dimension, str(n)) for dimension, n in cells)


def window_figures(w: Window) -> Figures:
    return {
        "days": w.days,
        "district referrals": w.referrals,
        "district referrals a month": w.referrals_a_month,
        "proactive-scan candidates": w.candidates,
        "proactive-scan candidates a month": w.candidates_a_month,
    }


SURVIVAL_DAYS = {"6 months": 183, "1 year": 365, "2 years": 730}


def survival_summary(steps: list[Step]) -> Figures:
    figures: Figures = {"orders followed": steps[0].at_risk if steps else 0}
    figures["first breaches"] = sum(s.breached for s in steps)
    for label, days in SURVIVAL_DAYS.items():
        figures[f"share without a breach after {label}"] = without_breach_after(steps, days)
    return figures


def _capacity_figures(c: Capacity) -> Iterator[tuple[str, str, str, str]]:
    yield from _scoped(c.stage_days, "time in each stage", "stage")
    yield "time in each stage", "cases timed", "", str(c.cases_timed)
    yield "time in each stage", "cases not timed", "", str(c.cases_not_timed)
    for section, measure, table, row_name, column_name in (
        ("caseload", "cases held at the month's end", c.caseload, "month", "caseworker"),
        ("arrivals", "referrals made", c.arrivals, "month", "source"),
    ):
        cells = _pivot_cells(table, row_name, column_name)
        yield from ((section, measure, dimension, str(n)) for dimension, n in cells)
    for month, count in c.candidates.items():
        yield "arrivals", "proactive-scan candidates raised", f"month={month}", str(count)
    for month, values in c.queue.items():
        for measure, value in values.items():
            yield "queue", f"{measure} at the month's end", f"month={month}", number(value)
    for measure, cost in cost_figures(c).items():
        yield "cost", measure, "", number(cost, 2)


def _what_if_figures(w: WhatIf) -> Iterator[tuple[str, str, str, str]]:
    for measure, value in fit_figures(w).items():
        yield "what-if", measure, "", number(value)
    for band, value in vars(w.observed_period).items():
        yield "what-if", "full orders in the simulated period", f"band={band}", number(value, 1)
    for scenario in w.scenarios:
        for measure, attribute in SCENARIO_MEASURES.items():
            for band, value in vars(getattr(scenario, attribute)).items():
                dimension = f"caseworkers={scenario.caseworkers}; band={band}"
                yield "what-if", measure, dimension, number(value, 1)


SCENARIO_MEASURES = {
    "full orders per year": "orders_per_year",
    "referrals waiting, average at months' ends": "queue_length",
    "median days from referral to order": "time_to_order_days",
}


def fit_figures(w: WhatIf) -> Figures:
    f = w.fit
    return {
        "full orders obtained in the period": f.orders,
        "caseworkers in the period": f.caseworkers,
        "referrals a month": f.arrivals_per_day * 365.25 / 12,
        "share declined": f.declined_share,
        "share of decided cases that obtained a full order": f.ordered_share,
        "cases decided (their durations drawn on)": len(f.work_days),
        "median days from taken on to decision": median(f.work_days),
        "most cases one caseworker held": f.cases_per_caseworker,
        "simulated runs": w.runs,
    }


def cost_figures(c: Capacity) -> Figures:
    return {
        "caseworkers costed": c.caseworkers,
        "caseworker-years": c.caseworker_years,
        "staff cost per caseworker-year": c.staff_cost_per_caseworker,
        "staff cost of the period": c.staff_cost,
        "full orders obtained": c.full_orders,
        "full orders per caseworker-year": c.orders_per_caseworker_year,
        "staff cost per full order": c.cost_per_order,
    }


def _scoped(
    scoped: dict[str, Figures], section: str, dimension: str
) -> Iterator[tuple[str, str, str, str]]:
    for scope, values in scoped.items():
        for measure, value in values.items():
            yield section, measure, f"{dimension}={scope}", number(value)


def _pivot_cells(table: Table, row_name: str, column_name: str) -> Iterator[tuple[str, int]]:
    columns = columns_of(table)
    for row, cells in table.items():
        for column in columns:
            yield f"{row_name}={row}; {column_name}={column}", cells.get(column, 0)
        yield f"{row_name}={row}", sum(cells.values())
    for column, total in column_totals(table).items():
        yield f"{column_name}={column}", total
    yield ALL, sum(row_totals(table).values())


def number(value: float | None, places: int = 4) -> str:
    """A figure as text: whole numbers without a decimal point, others rounded."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{places}f}".rstrip("0")


def write_csv(evaluation: Evaluation, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(figures(evaluation))


# --- the HTML document, with charts ----------------------------------------------------------

CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#111111",
    foreground_strong="#111111",
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="0.85",
    colors=("#1f4e79", "#b35900", "#2e7d32", "#6a1b9a", "#8b1a1a"),
    font_family="system-ui, Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
)


def chart(
    label_id: str, labels: list[str], series: dict[str, list[int]], stacked: bool = True
) -> Markup:
    """An inline SVG bar chart, labelled by the element `label_id` (its caption)."""
    kind = pygal.StackedBar if stacked else pygal.Bar
    highest = max([sum(v) for v in zip(*series.values(), strict=True)] or [0])
    step = max(1, ceil(highest / 8))
    drawing = kind(
        style=CHART_STYLE,
        js=[],
        disable_xml_declaration=True,
        width=900,
        height=380,
        legend_at_bottom=True,
        x_label_rotation=60 if len(labels) > 12 else 0,
        y_labels=list(range(0, highest + step + 1, step)),
        print_values=False,
        show_legend=len(series) > 1,
    )
    drawing.x_labels = labels
    for name, values in series.items():
        drawing.add(name, values)
    svg = drawing.render(is_unicode=True)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-labelledby="{label_id}" ', 1))


def _pivot_chart(label_id: str, table: Table) -> Markup:
    columns = columns_of(table)
    series = {c: [cells.get(c, 0) for cells in table.values()] for c in columns}
    return chart(label_id, list(table), series)


def _charts(evaluation: Evaluation) -> dict[str, Markup]:
    """The charts there is something to draw for, by what they show."""
    charts = {
        name: _pivot_chart(f"caption-{name}", table)
        for name, table in (("referrals", evaluation.referrals), ("orders", evaluation.orders))
        if table
    }
    for scope, counts in evaluation.breaches_per_subject.items():
        labels = [f"subject {rank}" for rank in range(1, len(counts) + 1)]
        charts[scope] = chart(f"caption-{slug(scope)}", labels, {"breaches": counts}, False)
    c = evaluation.capacity
    charts["arrivals"] = _pivot_chart("caption-arrivals", c.arrivals)
    if columns_of(c.caseload):
        charts["caseload"] = _pivot_chart("caption-caseload", c.caseload)
    if evaluation.what_if:
        charts["what-if"] = _what_if_chart(evaluation.what_if)
    if evaluation.outcomes.survival:
        charts["survival"] = survival_chart("caption-survival", evaluation.outcomes.survival)
    if evaluation.outreach.sessions:
        charts["outreach"] = outreach_chart("caption-outreach", evaluation.outreach)
    waiting = {"referrals waiting": [int(row["waiting"] or 0) for row in c.queue.values()]}
    charts["queue"] = chart("caption-queue", list(c.queue), waiting, False)
    return charts


def _what_if_chart(w: WhatIf) -> Markup:
    """Median days from referral to order for 1 to 4 caseworkers, with the band's bounds."""
    bands = [s.time_to_order_days for s in w.scenarios]
    series = {
        name: [round(getattr(band, attribute)) for band in bands]
        for name, attribute in (("5th percentile", "low"), ("middle (median of runs)", "middle"),
                                ("95th percentile", "high"))
    }  # fmt: skip
    labels = [f"{s.caseworkers} caseworker{'s' if s.caseworkers > 1 else ''}" for s in w.scenarios]
    return chart("caption-what-if", labels, series, stacked=False)


OUTREACH_SERIES = {  # series of the outreach chart: (window, its attribute)
    "district referrals a month, before": ("before", "referrals_a_month"),
    "district referrals a month, after": ("after", "referrals_a_month"),
    "proactive-scan candidates a month, before": ("before", "candidates_a_month"),
    "proactive-scan candidates a month, after": ("after", "candidates_a_month"),
}


def outreach_chart(label_id: str, o: Outreach) -> Markup:
    """For each session, the district's referrals and candidates a month before and after."""
    drawing = pygal.Bar(
        style=CHART_STYLE, js=[], disable_xml_declaration=True, width=900, height=380,
        legend_at_bottom=True, legend_at_bottom_columns=2, include_x_axis=True,
        x_label_rotation=60 if len(o.sessions) > 8 else 0, print_values=False,
        y_title="a month (over the days of each window)",
    )  # fmt: skip
    drawing.x_labels = [f"{c.session.district} {c.session.held_on}" for c in o.sessions]
    for name, (side, attribute) in OUTREACH_SERIES.items():
        values = [getattr(getattr(c, side), attribute) for c in o.sessions]
        drawing.add(name, [None if v is None else round(v, 2) for v in values])
    svg = drawing.render(is_unicode=True)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-labelledby="{label_id}" ', 1))


def survival_chart(label_id: str, survival: dict[str, list[Step]]) -> Markup:
    """Kaplan-Meier curves as steps: the share without a breach against days since the order."""
    drawing = pygal.XY(
        style=CHART_STYLE, js=[], disable_xml_declaration=True, width=900, height=380,
        legend_at_bottom=True, show_dots=False, range=(0, 1), include_x_axis=True,
        y_labels=[i / 10 for i in range(11)], value_formatter=percent,
        x_title="days since the order was made", y_title="share without a breach",
    )  # fmt: skip
    for scope, steps in survival.items():
        points, level = [(0, 1.0)], 1.0
        for step in steps:
            points += [(step.day, level), (step.day, step.without_breach)]
            level = step.without_breach
        drawing.add(scope, points)
    svg = drawing.render(is_unicode=True)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-labelledby="{label_id}" ', 1))


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def figure(value: float | None, places: int = 1) -> str:
    return "—" if value is None else number(value, places)


def shown(value: float | None, measure: str) -> str:
    """A figure as the HTML shows it: shares as percentages, ratios to two places."""
    if measure.startswith("share"):
        return percent(value)
    if "cost" in measure and value is not None:
        return f"£{value:,.0f}"
    return figure(value, 2 if " per " in measure else 1)


def render_html(evaluation: Evaluation) -> str:
    environment = Environment(
        loader=PackageLoader("services.readmodels", "templates"), autoescape=True
    )
    environment.filters.update(percent=percent, figure=figure, shown=shown, slug=slug)
    environment.globals.update(
        columns_of=columns_of, row_totals=row_totals, column_totals=column_totals, ALL=ALL,
        cost_figures=cost_figures, fit_figures=fit_figures, SCENARIO_MEASURES=SCENARIO_MEASURES,
        survival_summary=survival_summary, window_figures=window_figures,
        DISPOSAL_CAVEATS=DISPOSAL_CAVEATS,
    )  # fmt: skip
    template = environment.get_template("report.html")
    return template.render(e=evaluation, charts=_charts(evaluation))


FORMATS = ("html", "pdf", "csv")


def export(evaluation: Evaluation, folder: Path, format: str = "html") -> list[Path]:
    """Write `evaluation-<from>-<to>.html` (or `.pdf`) and the data pack `.csv` into `folder`
    (`csv`: the data pack alone); returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"evaluation-{evaluation.start.isoformat()}-{evaluation.end.isoformat()}"
    written = []
    if format == "html":
        written.append(stem.with_suffix(".html"))
        written[0].write_text(render_html(evaluation), encoding="utf-8")
    elif format == "pdf":
        written.append(write_pdf(render_html(evaluation), stem.with_suffix(".pdf")))
    table = stem.with_suffix(".csv")
    write_csv(evaluation, table)
    return [*written, table]
