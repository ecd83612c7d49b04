"""A short, human-readable summary of the public mart, read from the DuckDB file."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

_BY_FEATURE = """
select
    feature_group,
    feature_id,
    sum(request_count) as requests,
    sum(direct_cost) as direct,
    sum(shared_cost) as shared,
    sum(amortized_cost) as amortized,
    sum(total_cost) as cost,
    sum(cost_low) as cost_low,
    sum(cost_high) as cost_high,
    sum(revenue) as revenue,
    (sum(revenue) - sum(total_cost)) / nullif(sum(total_cost), 0) as margin
from main.feature_cost_margin
group by all
order by cost desc
limit ?
"""

_TOTALS = """
select
    min(date_day),
    max(date_day),
    count(distinct tenant_id) filter (where not starts_with(tenant_id, '__')),
    sum(total_cost), sum(revenue), any_value(currency)
from main.feature_cost_margin
"""

_ALERTS = """
select date_day, feature_id, alert_type, cost_per_request, limit_value
from main.cost_alerts
order by date_day, feature_id, alert_type
"""


def significant(value: float | None, digits: int = 3) -> str:
    """Format a number with a fixed count of significant figures (no false precision)."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{float(f'{value:.{digits}g}'):,.{max(0, digits - 1 - _magnitude(value))}f}"


def _magnitude(value: float) -> int:
    """Decimal exponent of the leading digit of a non-zero number."""
    return int(f"{abs(value):e}".split("e")[1])


def print_summary(path: Path, top: int = 10) -> int:
    """Print totals, the costliest features and the alerts; returns a process exit code."""
    if not path.exists():
        print(
            f"feature-cost summary: no DuckDB file at {path}; run `make demo` first",
            file=sys.stderr,
        )
        return 1
    with duckdb.connect(str(path), read_only=True) as con:
        first, last, tenants, cost, revenue, currency = con.execute(_TOTALS).fetchone()
        rows = con.execute(_BY_FEATURE, [top]).fetchall()
        alerts = con.execute(_ALERTS).fetchall()
    print(f"feature_cost_margin: {first} to {last}, {tenants} tenants, currency {currency}")
    print(f"total cost {significant(cost)}  revenue {significant(revenue)}")
    header = (
        f"{'feature':<22}{'requests':>9}{'direct':>9}{'shared':>9}{'amort.':>9}"
        f"{'cost':>9}{'range':>17}{'revenue':>9}{'margin':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        _group, feature, requests, direct, shared, amortized, f_cost, low, high, f_rev, margin = row
        cost_range = f"{significant(low)}-{significant(high)}"
        shown = "-" if margin is None else f"{margin:+.2f}"
        print(
            f"{feature:<22}{requests:>9,}{significant(direct):>9}{significant(shared):>9}"
            f"{significant(amortized):>9}{significant(f_cost):>9}{cost_range:>17}"
            f"{significant(f_rev):>9}{shown:>8}"
        )
    print(f"\ncost alerts: {len(alerts)}")
    for day, feature, kind, value, limit in alerts:
        print(
            f"  {day} {feature:<22} {kind:<9} cost/request {significant(value)}"
            f" > {significant(limit)}"
        )
    return 0
