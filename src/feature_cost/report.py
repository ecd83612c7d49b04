"""A static, self-contained HTML report of the marts: charts drawn as inline SVG.

Nothing is fetched at view time (no scripts, fonts or styles from elsewhere), so the file can be
mailed, archived or opened offline. Figures are shown to three significant figures; the marts
keep full precision.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

PALETTE = ["#3b6ea8", "#e07b39", "#5a9e5a", "#b5495b", "#7d62a8", "#8c6d46", "#4aa3a3", "#999"]


def sig(value: float | None, digits: int = 3) -> str:
    """A number in `digits` significant figures, with thousands separators; '-' for None."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    exponent = int(f"{abs(value):e}".split("e")[1])
    decimals = max(0, digits - 1 - exponent)
    return f"{rounded:,.{decimals}f}"


@dataclass(frozen=True)
class Bar:
    """One labelled bar, with an optional low-high whisker."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None


def _svg(name: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg data-chart="{name}" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{html.escape(title)}</title>{''.join(body)}</svg>"
    )


def bar_chart(name: str, title: str, series: Sequence[tuple[str, Sequence[Bar]]]) -> str:
    """Horizontal grouped bars: one group per label, one bar per series, whiskers for ranges."""
    labels = list(dict.fromkeys(b.label for _, bars in series for b in bars))
    peak = max([b.high or b.value for _, bars in series for b in bars] + [1e-12])
    row = 14 * len(series) + 10
    left, width = 170, 620
    height = 30 + row * len(labels) + 20
    body = []
    for i, label in enumerate(labels):
        y0 = 20 + i * row
        body.append(
            f'<text x="{left - 6}" y="{y0 + row / 2}" text-anchor="end" '
            f'font-size="11">{html.escape(label)}</text>'
        )
        for j, (series_name, bars) in enumerate(series):
            bar = next((b for b in bars if b.label == label), None)
            if bar is None:
                continue
            y = y0 + j * 14
            w = max(0.0, bar.value) / peak * (width - left - 60)
            body.append(
                f'<rect class="mark" x="{left}" y="{y}" width="{w:.1f}" height="12" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{html.escape(series_name)} '
                f"{html.escape(label)}: {sig(bar.value)}</title></rect>"
            )
            if bar.low is not None and bar.high is not None:
                x1 = left + bar.low / peak * (width - left - 60)
                x2 = left + bar.high / peak * (width - left - 60)
                body.append(
                    f'<line class="whisker" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y + 6}" '
                    f'y2="{y + 6}" stroke="#222" stroke-width="1.5"/>'
                )
            body.append(
                f'<text x="{left + w + 4:.1f}" y="{y + 10}" font-size="10">{sig(bar.value)}</text>'
            )
    for j, (series_name, _) in enumerate(series):
        x = left + j * 110
        body.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{x + 14}" y="{height - 5}" '
            f'font-size="10">{html.escape(series_name)}</text>'
        )
    return _svg(name, title, width, height, body)


def line_chart(
    name: str, title: str, days: Sequence[str], lines: dict[str, Sequence[float | None]]
) -> str:
    """One polyline per series over the days; a None value breaks the line (a gap, not 0)."""
    width, height, left, top, bottom = 760, 300, 50, 20, 40
    values = [v for series in lines.values() for v in series if v is not None]
    low, high = (min([*values, 0.0]), max([*values, 0.0])) if values else (0.0, 1.0)
    span = (high - low) or 1.0
    step = (width - left - 150) / max(1, len(days) - 1)

    def point(i: int, v: float) -> str:
        y = top + (high - v) / span * (height - top - bottom)
        return f"{left + i * step:.1f},{y:.1f}"

    zero_y = top + high / span * (height - top - bottom)
    body = [
        f'<line x1="{left}" x2="{width - 150}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" stroke="#bbb"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">{sig(high)}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" font-size="10">'
        f"{sig(low)}</text>",
    ]
    for i, day in enumerate(days):
        if i in (0, len(days) - 1) or len(days) <= 8:
            body.append(
                f'<text x="{left + i * step:.1f}" y="{height - bottom + 14}" font-size="9" '
                f'text-anchor="middle">{html.escape(day[5:])}</text>'
            )
    for k, (series_name, series) in enumerate(lines.items()):
        colour = PALETTE[k % len(PALETTE)]
        segment: list[str] = []
        for i, value in enumerate([*series, None]):
            if value is None:
                if segment:
                    body.append(
                        f'<polyline class="mark" fill="none" stroke="{colour}" stroke-width="2" '
                        f'points="{" ".join(segment)}"><title>{html.escape(series_name)}</title>'
                        "</polyline>"
                    )
                segment = []
            else:
                segment.append(point(i, value))
        body.append(
            f'<text x="{width - 145}" y="{top + 12 * k + 8}" font-size="10" fill="{colour}">'
            f"{html.escape(series_name)}</text>"
        )
    return _svg(name, title, width, height, body)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain HTML table; floats in three significant figures."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{sig(v) if isinstance(v, float) else html.escape(str(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'main' and table_name = ?",
            [name],
        ).fetchone()[0]
    )


def build_html(con: duckdb.DuckDBPyConnection) -> str:
    """Query the marts and lay out the report."""
    first, last, cost, low, high, revenue, currency = con.execute(
        "select min(date_day), max(date_day), sum(total_cost), sum(cost_low), sum(cost_high),"
        " sum(revenue), any_value(currency) from main.feature_cost_margin"
    ).fetchone()
    margin = None if not cost else (revenue - cost) / cost
    features = con.execute(
        "select feature_id, sum(total_cost), sum(cost_low), sum(cost_high), sum(revenue)"
        " from main.feature_cost_margin group by 1 order by 2 desc"
    ).fetchall()
    cost_vs_revenue = bar_chart(
        "cost-vs-revenue",
        "Cost (with its plausible range) and revenue per feature",
        [
            ("cost", [Bar(f, c, lo, hi) for f, c, lo, hi, _ in features]),
            ("revenue", [Bar(f, r) for f, _, _, _, r in features]),
        ],
    )
    trend_rows = con.execute(
        "select cast(date_day as varchar), feature_id,"
        " (sum(revenue) - sum(total_cost)) / nullif(sum(total_cost), 0)"
        " from main.feature_cost_margin where not starts_with(feature_id, '__')"
        " group by 1, 2 order by 1, 2"
    ).fetchall()
    days = sorted({d for d, _, _ in trend_rows})
    by_feature: dict[str, dict[str, float | None]] = {}
    for day, feature, value in trend_rows:
        by_feature.setdefault(feature, {})[day] = value
    margin_trend = line_chart(
        "margin-trend",
        "Margin per feature and day ((revenue - cost) / cost)",
        days,
        {f: [values.get(d) for d in days] for f, values in by_feature.items()},
    )
    tenants = con.execute(
        "select tenant_id, sum(total_cost) from main.feature_cost_margin"
        " group by 1 order by 2 desc limit 10"
    ).fetchall()
    top_tenants = bar_chart(
        "top-tenants", "Top tenants by cost", [("cost", [Bar(t, c) for t, c in tenants])]
    )
    shares = con.execute(
        "select cast(date_day as varchar),"
        " sum(case when feature_id = '__unattributed__' then total_cost else 0 end)"
        "   / nullif(sum(total_cost), 0),"
        " sum(case when feature_id = '__idle__' then total_cost else 0 end)"
        "   / nullif(sum(total_cost), 0),"
        " sum(case when feature_id = '__flag_off__' then total_cost else 0 end)"
        "   / nullif(sum(total_cost), 0)"
        " from main.feature_cost_margin group by 1 order by 1"
    ).fetchall()
    share_chart = line_chart(
        "unattributed-idle-share",
        "Share of cost that is unattributed, idle or flag-off, per day",
        [d for d, *_ in shares],
        {
            "unattributed": [u for _, u, _, _ in shares],
            "idle": [i for _, _, i, _ in shares],
            "flag off": [f for _, _, _, f in shares],
        },
    )
    alerts = (
        con.execute(
            "select cast(date_day as varchar), feature_id, alert_type, cost_per_request,"
            " limit_value from main.cost_alerts order by 1, 2"
        ).fetchall()
        if _has_table(con, "cost_alerts")
        else []
    )
    leakage = (
        con.execute(
            "select feature_id, service_name, span_name, sum(estimated_cost)"
            " from main.flag_leakage group by 1, 2, 3 order by 4 desc limit 10"
        ).fetchall()
        if _has_table(con, "flag_leakage")
        else []
    )
    style = (
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 8px}"
        ".kpi{display:inline-block;margin-right:32px}.kpi b{font-size:22px;display:block}"
    )
    kpis = "".join(
        f'<div class="kpi">{label}<b>{value}</b></div>'
        for label, value in (
            ("period", f"{first} to {last}"),
            (f"cost ({currency})", f"{sig(cost)} ({sig(low)}-{sig(high)})"),
            (f"revenue ({currency})", sig(revenue)),
            ("margin", "-" if margin is None else f"{margin:+.2f}"),
        )
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>feature-cost report</title>"
        f"<style>{style}</style></head><body><h1>Cost and margin per feature</h1>{kpis}"
        f"<h2>Cost vs revenue per feature</h2>{cost_vs_revenue}"
        f"<h2>Margin trend</h2>{margin_trend}"
        f"<h2>Top tenants by cost</h2>{top_tenants}"
        f"<h2>Unattributed and idle share</h2>{share_chart}"
        "<h2>Alerts</h2>"
        + (
            table(["day", "feature", "alert", "cost/request", "limit"], alerts)
            if alerts
            else "<p>No alerts.</p>"
        )
        + "<h2>Flag leakage (zombie paths)</h2>"
        + (
            table(["feature", "service", "span", "cost"], leakage)
            if leakage
            else "<p>No work ran with its flag off.</p>"
        )
        + "</body></html>"
    )


def write_report(duckdb_path: Path, out: Path) -> int:
    """Write the report; return a process exit code."""
    if not duckdb_path.exists():
        print(
            f"feature-cost report: no DuckDB file at {duckdb_path}; run `make demo`",
            file=sys.stderr,
        )
        return 1
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        if not _has_table(con, "feature_cost_margin"):
            print(f"feature-cost report: {duckdb_path} has no feature_cost_margin", file=sys.stderr)
            return 1
        page = build_html(con)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"report written to {out.resolve()}")
    return 0
