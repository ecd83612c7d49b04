"""A static, self-contained HTML report of the marts, with charts drawn as inline SVG.

Nothing is fetched when the page is viewed (no scripts, fonts or styles from elsewhere), so the
file can be mailed, archived or opened offline. Figures are printed to three significant
figures; the marts keep full precision.

Loading (``load_report_data``) is separate from rendering (``render_html`` and the chart
functions), which take plain Python data and return strings.
"""

from __future__ import annotations

import html
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from feature_cost import MARTS_SCHEMA
from feature_cost.formatting import percent, say_no_duckdb_file, share, sig

PALETTE = (
    "#3b6ea8",
    "#e07b39",
    "#5a9e5a",
    "#b5495b",
    "#7d62a8",
    "#8c6d46",
    "#4aa3a3",
    "#c2a23a",
    "#d46fa8",
    "#7f7f7f",
)
RESERVED_FEATURES = (
    ("__unattributed__", "unattributed"),
    ("__idle__", "idle"),
    ("__flag_off__", "flag off"),
)
TOP_TENANTS = 10
TOP_LEAKS = 10
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"


def margin_of(revenue: float | None, cost: float | None) -> float | None:
    """``(revenue - cost) / cost``, missing revenue as 0; ``None`` when there is no cost."""
    if not cost:
        return None
    return ((revenue or 0.0) - cost) / cost


def _cell(value: object) -> str:
    """One table cell: floats in significant figures, ints with separators, dates ISO."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return sig(float(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ----------------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Bar:
    """One labelled bar, with an optional low-high whisker."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Headline:
    """Totals over the whole period."""

    first_day: str | None
    last_day: str | None
    day_count: int
    cost: float | None
    cost_low: float | None
    cost_high: float | None
    revenue: float | None
    currency: str

    @property
    def margin(self) -> float | None:
        """Margin of the period, from the sums."""
        return margin_of(self.revenue, self.cost)

    @property
    def gross_margin(self) -> float | None:
        """Gross margin of the period, (revenue - cost) / revenue, from the sums."""
        if self.revenue is None or self.cost is None or self.revenue == 0:
            return None
        return (self.revenue - self.cost) / self.revenue


@dataclass(frozen=True)
class FeatureTotals:
    """Cost (with its range) and revenue of one feature over the period."""

    feature_id: str
    cost: float
    cost_low: float
    cost_high: float
    revenue: float


@dataclass(frozen=True)
class DayAmounts:
    """Summed cost and revenue of one feature on one day."""

    day: str
    feature_id: str
    cost: float
    revenue: float | None


@dataclass(frozen=True)
class DayReserved:
    """Cost of one day in total and in each reserved feature id."""

    day: str
    total_cost: float
    reserved_cost: Mapping[str, float]


@dataclass(frozen=True)
class Table:
    """Rows for an HTML table, or why there are none (``missing``: table or columns absent)."""

    headers: Sequence[str]
    rows: Sequence[Sequence[object]] = ()
    missing: str | None = None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as plain values."""

    headline: Headline
    features: Sequence[FeatureTotals]
    day_amounts: Sequence[DayAmounts]
    tenants: Sequence[tuple[str, float]]
    reserved: Sequence[DayReserved]
    alerts: Table
    leakage: Table
    notes: Sequence[str] = field(default_factory=tuple)


# ------------------------------------------------------------------------------ pure transforms


def margin_series(
    rows: Sequence[DayAmounts], days: Sequence[str] | None = None
) -> tuple[list[str], dict[str, list[float | None]]]:
    """Daily margin per feature from summed cost and revenue.

    Reserved feature ids (``__...``) are left out: they earn no revenue by construction. A day
    with no cost for a feature, or no row at all, is ``None`` (a gap in the chart, not 0).
    """
    all_days = sorted({r.day for r in rows} if days is None else set(days))
    by_feature: dict[str, dict[str, float | None]] = {}
    for r in rows:
        if r.feature_id.startswith("__"):
            continue
        by_feature.setdefault(r.feature_id, {})[r.day] = margin_of(r.revenue, r.cost)
    return all_days, {
        feature: [values.get(d) for d in all_days] for feature, values in sorted(by_feature.items())
    }


def reserved_shares(days: Sequence[DayReserved]) -> dict[str, list[float]]:
    """Per reserved feature, its share of each day's total cost (0 where the day cost nothing)."""
    return {
        label: [
            (d.reserved_cost.get(fid, 0.0) / d.total_cost) if d.total_cost else 0.0 for d in days
        ]
        for fid, label in RESERVED_FEATURES
    }


# ------------------------------------------------------------------------------------ SVG charts


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg(name: str, title: str, width: int, height: int, body: Sequence[str]) -> str:
    """An ``<svg data-chart=name>`` with an accessible title."""
    return (
        f'<svg data-chart="{_esc(name)}" role="img" aria-label="{_esc(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" style="{FONT}">'
        f"<title>{_esc(title)}</title>{''.join(body)}</svg>"
    )


def _no_data(name: str, title: str, message: str = "no data") -> str:
    return _svg(
        name,
        title,
        400,
        40,
        [f'<text x="8" y="24" font-size="12" fill="#666">{_esc(message)}</text>'],
    )


def _short_day(day: str) -> str:
    """``2026-01-05 -> 01-05`` for axis labels (the year is in the headline period)."""
    return day[5:] if len(day) == 10 and day[4] == "-" else day


def _legend(names: Sequence[str], x: float, y: float, horizontal: bool) -> list[str]:
    out = []
    for i, label in enumerate(names):
        lx, ly = (x + i * 120, y) if horizontal else (x, y + i * 15)
        out.append(
            f'<rect x="{lx:.1f}" y="{ly:.1f}" width="10" height="10" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{lx + 14:.1f}" y="{ly + 9:.1f}" font-size="11">{_esc(label)}</text>'
        )
    return out


def bar_chart(
    name: str, title: str, series: Sequence[tuple[str, Sequence[Bar]]], unit: str = ""
) -> str:
    """Horizontal bars grouped by label, one bar per series; a whisker where a range is given.

    Each bar is a ``rect.mark.bar``; each whisker a ``path.mark.whisker``. Negative values are
    drawn as empty bars (the label still shows the number).
    """
    labels = list(dict.fromkeys(b.label for _, bars in series for b in bars))
    if not labels:
        return _no_data(name, title)
    peak = max(max(b.value, b.high or 0.0) for _, bars in series for b in bars)
    peak = peak if peak > 0 else 1.0
    bar_h, gap = 13, 10
    row = bar_h * len(series) + gap
    left, plot_w, top = 190, 480, 8
    width = left + plot_w + 90
    legend_y = top + row * len(labels) + 6
    height = legend_y + (22 if len(series) > 1 else 4)

    def x_of(v: float) -> float:
        return left + max(0.0, v) / peak * plot_w

    suffix = f" {unit}" if unit else ""
    body = [
        f'<line x1="{left}" x2="{left}" y1="{top - 4}" y2="{legend_y - 6}" stroke="#999"/>',
    ]
    for i, label in enumerate(labels):
        y0 = top + i * row
        body.append(
            f'<text x="{left - 8}" y="{y0 + row / 2 - gap / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_esc(label)}</text>'
        )
        for j, (series_name, bars) in enumerate(series):
            bar = next((b for b in bars if b.label == label), None)
            if bar is None:
                continue
            y = y0 + j * bar_h
            x_end = x_of(bar.value)
            tip = f"{series_name} of {label}: {sig(bar.value)}{suffix}"
            if bar.low is not None and bar.high is not None:
                tip += f" (range {sig(bar.low)} to {sig(bar.high)})"
            body.append(
                f'<rect class="mark bar" x="{left}" y="{y}" width="{x_end - left:.1f}" '
                f'height="{bar_h - 2}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{_esc(tip)}</title></rect>"
            )
            text_x = x_end
            if bar.low is not None and bar.high is not None:
                x1, x2, mid = x_of(bar.low), x_of(bar.high), y + (bar_h - 2) / 2
                body.append(
                    f'<path class="mark whisker" d="M{x1:.1f},{mid:.1f}H{x2:.1f}'
                    f"M{x1:.1f},{mid - 4:.1f}V{mid + 4:.1f}M{x2:.1f},{mid - 4:.1f}V{mid + 4:.1f}"
                    f'" stroke="#222" stroke-width="1.2" fill="none">'
                    f"<title>{_esc(f'range of {label}: {sig(bar.low)} to {sig(bar.high)}')}"
                    "</title></path>"
                )
                text_x = max(text_x, x2)
            body.append(
                f'<text x="{text_x + 4:.1f}" y="{y + bar_h - 3}" font-size="10">'
                f"{sig(bar.value)}</text>"
            )
    if len(series) > 1:
        body.extend(_legend([s for s, _ in series], left, legend_y, horizontal=True))
    return _svg(name, title, width, height, body)


def line_chart(
    name: str,
    title: str,
    days: Sequence[str],
    lines: Mapping[str, Sequence[float | None]],
    fmt: str = "percent",
) -> str:
    """One line per series over the days; ``None`` breaks the line (a gap, not a zero).

    Every value is a ``circle.mark.point``; each run of two or more consecutive values is a
    ``polyline.mark.line``. ``fmt`` is ``"percent"`` (values are ratios) or ``"number"``.
    """
    values = [v for series in lines.values() for v in series if v is not None]
    if not days or not values:
        return _no_data(name, title)
    label = percent if fmt == "percent" else sig
    width, left, right, top, bottom = 780, 64, 180, 12, 36
    height = max(280, top + 15 * len(lines) + bottom)
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = min(*values, 0.0), max(*values, 0.0)
    pad = ((high - low) or 1.0) * 0.05
    span = high - low + 2 * pad
    step = plot_w / max(1, len(days) - 1)

    def x_of(i: int) -> float:
        return left + (i * step if len(days) > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return top + (high + pad - v) / span * plot_h

    body = [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa"/>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y_of(0):.1f}" y2="{y_of(0):.1f}" '
        'stroke="#888" stroke-dasharray="3,3"/>',
    ]
    for tick in sorted({low, 0.0, high}):
        body.append(
            f'<text x="{left - 6}" y="{y_of(tick) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{_esc(label(tick) if tick else '0')}</text>"
        )
    every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        if i % every == 0 or i == len(days) - 1:
            body.append(
                f'<text x="{x_of(i):.1f}" y="{height - bottom + 16}" font-size="10" '
                f'text-anchor="middle">{_esc(_short_day(day))}</text>'
            )
    for k, (series_name, series) in enumerate(lines.items()):
        colour = PALETTE[k % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate([*series, None]):
            if value is not None:
                run.append(f"{x_of(i):.1f},{y_of(value):.1f}")
                continue
            if len(run) > 1:
                body.append(
                    f'<polyline class="mark line" fill="none" stroke="{colour}" '
                    f'stroke-width="2" points="{" ".join(run)}">'
                    f"<title>{_esc(series_name)}</title></polyline>"
                )
            run = []
        for i, value in enumerate(series):
            if value is not None:
                body.append(
                    f'<circle class="mark point" cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" '
                    f'r="3" fill="{colour}">'
                    f"<title>{_esc(f'{series_name}, {days[i]}: {label(value)}')}</title></circle>"
                )
    body.extend(_legend(list(lines), left + plot_w + 16, top, horizontal=False))
    return _svg(name, title, width, height, body)


def stacked_column_chart(
    name: str, title: str, days: Sequence[str], stacks: Mapping[str, Sequence[float]]
) -> str:
    """One column per day, stacked by series; values are shares of a whole (0..1).

    Each non-zero segment is a ``rect.mark.bar``. The axis runs to the tallest column, not to
    100%, so small shares stay readable; the top label says how tall that is.
    """
    totals = [sum(s[i] for s in stacks.values()) for i in range(len(days))]
    if not days or max(totals, default=0.0) <= 0:
        return _no_data(name, title, "no cost in these features in this period")
    width, left, right, top, bottom = 780, 64, 180, 16, 36
    height = max(240, top + 15 * len(stacks) + bottom)
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(totals)
    slot = plot_w / len(days)
    col_w = max(2.0, min(40.0, slot * 0.7))
    body = [
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="10">{share(peak)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end" font-size="10">0</text>',
    ]
    every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        x = left + i * slot + (slot - col_w) / 2
        base: float = top + plot_h
        for k, (series_name, values) in enumerate(stacks.items()):
            value = values[i]
            if value <= 0:
                continue
            h = value / peak * plot_h
            base -= h
            body.append(
                f'<rect class="mark bar" x="{x:.1f}" y="{base:.1f}" width="{col_w:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{_esc(f'{series_name}, {day}: {share(value)} of cost')}</title></rect>"
            )
        if totals[i] > 0 and len(days) <= 31:
            body.append(
                f'<text x="{x + col_w / 2:.1f}" y="{base - 3:.1f}" font-size="9" '
                f'text-anchor="middle">{share(totals[i])}</text>'
            )
        if i % every == 0 or i == len(days) - 1:
            body.append(
                f'<text x="{x + col_w / 2:.1f}" y="{height - bottom + 16}" font-size="10" '
                f'text-anchor="middle">{_esc(_short_day(day))}</text>'
            )
    body.extend(_legend(list(stacks), left + plot_w + 16, top, horizontal=False))
    return _svg(name, title, width, height, body)


# ---------------------------------------------------------------------------------------- HTML


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain HTML table; floats in three significant figures, numbers right-aligned."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_esc(_cell(v))}</td>'
            if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
            else f"<td>{_esc(_cell(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _table_section(data: Table, empty: str) -> str:
    if data.missing is not None:
        return f'<p class="missing">{_esc(data.missing)}</p>'
    if not data.rows:
        return f"<p>{_esc(empty)}</p>"
    return table(data.headers, data.rows)


def _kpis(h: Headline) -> str:
    unit = f" ({h.currency})" if h.currency else ""
    period = "-" if h.first_day is None else f"{h.first_day} to {h.last_day}"
    items = (
        ("period", period, f"{h.day_count} days"),
        (f"cost{unit}", sig(h.cost), f"range {sig(h.cost_low)} to {sig(h.cost_high)}"),
        (f"revenue{unit}", sig(h.revenue), ""),
        ("margin", percent(h.margin), "(revenue - cost) / cost"),
        ("gross margin", percent(h.gross_margin), "(revenue - cost) / revenue"),
    )
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><span>{_esc(label)}</span><b>{_esc(value)}</b>'
            f"<small>{_esc(note)}</small></div>"
            for label, value, note in items
        )
        + "</div>"
    )


STYLE = (
    f"body{{{FONT};margin:24px auto;max-width:980px;padding:0 16px;color:#222}}"
    "h1{font-size:24px}h2{font-size:18px;margin-top:32px}"
    "p.note,small{color:#666;font-size:12px}p.missing{color:#a33}"
    "table{border-collapse:collapse;font-size:12px;margin:8px 0}"
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}td.num{text-align:right}"
    ".kpis{display:flex;flex-wrap:wrap;gap:16px 40px}.kpi span{display:block;font-size:13px}"
    ".kpi b{display:block;font-size:24px}.kpi small{display:block}"
    "svg{display:block;max-width:100%;height:auto}"
)


def render_html(data: ReportData) -> str:
    """The whole report page from plain data."""
    h = data.headline
    unit = f" ({h.currency})" if h.currency else ""
    cost_vs_revenue = bar_chart(
        "cost-vs-revenue",
        f"Cost{unit}, with its low-high range, and revenue per feature",
        [
            ("cost", [Bar(f.feature_id, f.cost, f.cost_low, f.cost_high) for f in data.features]),
            ("revenue", [Bar(f.feature_id, f.revenue) for f in data.features]),
        ],
        unit=h.currency,
    )
    days, margins = margin_series(data.day_amounts)
    margin_trend = line_chart(
        "margin-trend", "Margin per feature and day, (revenue - cost) / cost", days, margins
    )
    top_tenants = bar_chart(
        "top-tenants",
        f"Top {TOP_TENANTS} tenants by cost{unit}",
        [("cost", [Bar(t, c) for t, c in data.tenants])],
        unit=h.currency,
    )
    shares = reserved_shares(data.reserved)
    reserved_chart = stacked_column_chart(
        "unattributed-idle-share",
        "Share of each day's cost that is unattributed, idle or behind a flag that is off",
        [d.day for d in data.reserved],
        shares,
    )
    period_total = sum(d.total_cost for d in data.reserved)
    reserved_rows = [
        (
            fid,
            sum(d.reserved_cost.get(fid, 0.0) for d in data.reserved),
            share(sum(d.reserved_cost.get(fid, 0.0) for d in data.reserved) / period_total)
            if period_total
            else "-",
        )
        for fid, _ in RESERVED_FEATURES
    ]
    notes = "".join(f'<p class="note">{_esc(n)}</p>' for n in data.notes)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Feature cost report {_esc(h.first_day or '')} to {_esc(h.last_day or '')}"
        f"</title><style>{STYLE}</style></head><body>"
        "<h1>Cost, revenue and margin per feature</h1>"
        f"{_kpis(h)}"
        '<p class="note">Figures in three significant figures; the cost range comes from the'
        " plausible allocation drivers.</p>"
        f"{notes}"
        f"<h2>Cost vs revenue per feature</h2>{cost_vs_revenue}"
        "<h2>Margin trend</h2>"
        '<p class="note">Days on which a feature had no cost are gaps, not zeros.</p>'
        f"{margin_trend}"
        f"<h2>Top tenants by cost</h2>{top_tenants}"
        f"<h2>Unattributed, idle and flag-off share</h2>{reserved_chart}"
        f"{table(['feature id', f'cost{unit}', 'share of period cost'], reserved_rows)}"
        "<h2>Alerts</h2>"
        f"{_table_section(data.alerts, 'No alerts in this period.')}"
        "<h2>Flag leakage: top zombie paths by cost</h2>"
        f"{_table_section(data.leakage, 'No work ran with its flag off.')}"
        "</body></html>\n"
    )


# -------------------------------------------------------------------------------------- loading


def table_columns(
    con: duckdb.DuckDBPyConnection, name: str, schema: str = MARTS_SCHEMA
) -> set[str] | None:
    """Column names of ``<schema>.<name>`` (by default a mart), or ``None`` if there is no
    such table or view."""
    rows = con.execute(
        "select column_name from information_schema.columns"
        " where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return {r[0] for r in rows} or None


def _optional_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    headers: Sequence[str],
    required: Sequence[str],
    sql: str,
) -> Table:
    """Run ``sql`` on an optional mart, or say why it cannot be shown.

    ``required`` are the columns ``sql`` reads; a missing table or column becomes a message in
    the report instead of an error.
    """
    present = table_columns(con, name)
    if present is None:
        return Table(headers, missing=f"This DuckDB file has no {name} table.")
    lacking = [c for c in required if c not in present]
    if lacking:
        return Table(headers, missing=f"{name} has no column {', '.join(lacking)}.")
    return Table(headers, con.execute(sql).fetchall())


@dataclass(frozen=True)
class Completeness:
    """Which rows of the mart the figures cover, and the days left out as still in progress.

    ``where`` is a SQL condition on ``feature_cost_margin``: its complete days (rule 16), or
    every row when the file predates ``is_complete_day`` or no day is complete yet.
    """

    where: str
    partial_days: Sequence[tuple[str, float, float]]
    note: str | None


def completeness(con: duckdb.DuckDBPyConnection) -> Completeness:
    """The complete days of the mart to report on, and a note naming the days in progress."""
    present = table_columns(con, "feature_cost_margin") or set()
    if "is_complete_day" not in present:
        return Completeness("true", (), None)
    partial = con.execute(
        "select cast(date_day as varchar), sum(total_cost), sum(revenue)"
        f" from {MARTS_SCHEMA}.feature_cost_margin where not is_complete_day"
        " group by 1 order by 1"
    ).fetchall()
    if not partial:
        return Completeness("true", (), None)
    (complete_rows,) = one_row(
        con, f"select count(*) from {MARTS_SCHEMA}.feature_cost_margin where is_complete_day"
    )
    days = ", ".join(
        f"{day} (cost so far {sig(cost)}, revenue {sig(revenue)})" for day, cost, revenue in partial
    )
    if not complete_rows:
        return Completeness(
            "true", partial, f"Every day is still in progress, so every figure is partial: {days}."
        )
    return Completeness(
        "is_complete_day",
        partial,
        f"Still in progress, left out of the figures until spans of a later day arrive: {days}.",
    )


def one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The single row of an aggregate query (which always has one)."""
    row = con.execute(sql).fetchone()
    if row is None:
        raise RuntimeError(f"no row from: {sql}")
    return row


def load_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Read everything the report shows from the marts in ``con``: complete days only."""
    scope = completeness(con)
    fcm = f"(select * from {MARTS_SCHEMA}.feature_cost_margin where {scope.where}) as complete_days"
    first, last, day_count, cost, low, high, revenue, currency = one_row(
        con,
        "select cast(min(date_day) as varchar), cast(max(date_day) as varchar),"
        " count(distinct date_day), sum(total_cost), sum(cost_low), sum(cost_high),"
        " sum(revenue), string_agg(distinct currency, ', ' order by currency)"
        f" from {fcm}",
    )
    headline = Headline(first, last, day_count, cost, low, high, revenue, currency or "")
    features = [
        FeatureTotals(*row)
        for row in con.execute(
            "select feature_id, sum(total_cost), sum(cost_low), sum(cost_high),"
            f" coalesce(sum(revenue), 0) from {fcm} group by 1 order by 2 desc, 1"
        ).fetchall()
    ]
    day_amounts = [
        DayAmounts(*row)
        for row in con.execute(
            "select cast(date_day as varchar), feature_id, sum(total_cost), sum(revenue)"
            f" from {fcm} group by 1, 2 order by 1, 2"
        ).fetchall()
    ]
    tenants = con.execute(
        f"select tenant_id, sum(total_cost) from {fcm} group by 1 order by 2 desc, 1 limit ?",
        [TOP_TENANTS],
    ).fetchall()
    reserved_ids = [fid for fid, _ in RESERVED_FEATURES]
    reserved = [
        DayReserved(day, total, dict(zip(reserved_ids, parts, strict=True)))
        for day, total, *parts in con.execute(
            "select cast(date_day as varchar), sum(total_cost), "
            + ", ".join(
                f"coalesce(sum(total_cost) filter (where feature_id = '{fid}'), 0)"
                for fid in reserved_ids
            )
            + f" from {fcm} group by 1 order by 1"
        ).fetchall()
    ]
    alert_columns = (
        "date_day",
        "feature_id",
        "tenant_id",
        "alert_type",
        "cost_per_request",
        "limit_value",
        "request_count",
        "total_cost",
        "forecast_cost",
    )
    alerts = _optional_table(
        con,
        "cost_alerts",
        (
            "day",
            "feature",
            "tenant",
            "alert",
            "cost/request",
            "limit",
            "requests",
            "cost",
            "forecast",
        ),
        alert_columns,
        f"select {', '.join(alert_columns)} from {MARTS_SCHEMA}.cost_alerts"
        " order by date_day, feature_id, tenant_id, alert_type",
    )
    leakage = _optional_table(
        con,
        "flag_leakage",
        ("feature", "service", "span", "days", "estimated cost"),
        ("date_day", "feature_id", "service_name", "span_name", "estimated_cost"),
        "select feature_id, service_name, span_name, count(distinct date_day),"
        f" sum(estimated_cost) from {MARTS_SCHEMA}.flag_leakage"
        f" where date_day in (select date_day from {MARTS_SCHEMA}.feature_cost_margin"
        f" where {scope.where}) group by 1, 2, 3"
        f" order by 5 desc nulls last, 1, 2, 3 limit {TOP_LEAKS}",
    )
    notes = [] if cost else ["feature_cost_margin has no cost in it: nothing to chart."]
    if scope.note:
        notes.append(scope.note)
    return ReportData(headline, features, day_amounts, tenants, reserved, alerts, leakage, notes)


def write_report(duckdb_path: Path, out: Path) -> int:
    """Write the report from the DuckDB file (opened read-only); return a process exit code."""
    if not duckdb_path.is_file():
        say_no_duckdb_file("report", duckdb_path, "build it first (make demo)")
        return 1
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        if table_columns(con, "feature_cost_margin") is None:
            print(
                f"feature-cost report: {duckdb_path} has no table"
                f" {MARTS_SCHEMA}.feature_cost_margin; build the project into it first"
                " (dbt build)",
                file=sys.stderr,
            )
            return 1
        page = render_html(load_report_data(con))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(out)
    return 0
