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
    sum(total_cost) as cost,
    sum(revenue) as revenue,
    (sum(revenue) - sum(total_cost)) / nullif(sum(total_cost), 0) as margin
from main.feature_cost_margin
group by all
order by cost desc
limit ?
"""

_TOTALS = """
select
    min(date_day), max(date_day), count(distinct tenant_id),
    sum(total_cost), sum(revenue), any_value(currency)
from main.feature_cost_margin
"""


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def print_summary(path: Path, top: int = 10) -> int:
    """Print totals and the costliest features; returns a process exit code."""
    if not path.exists():
        print(
            f"feature-cost summary: no DuckDB file at {path}; run `make demo` first",
            file=sys.stderr,
        )
        return 1
    with duckdb.connect(str(path), read_only=True) as con:
        first, last, tenants, cost, revenue, currency = con.execute(_TOTALS).fetchone()
        rows = con.execute(_BY_FEATURE, [top]).fetchall()
    print(f"feature_cost_margin: {first} to {last}, {tenants} tenants, currency {currency}")
    print(f"total cost {_money(cost)}  revenue {_money(revenue)}")
    header = f"{'group':<18}{'feature':<22}{'requests':>10}{'cost':>12}{'revenue':>12}{'margin':>9}"
    print(header)
    print("-" * len(header))
    for group, feature, requests, f_cost, f_revenue, margin in rows:
        shown = "-" if margin is None else f"{margin:+.2f}"
        print(
            f"{group:<18}{feature:<22}{requests:>10,}{_money(f_cost):>12}"
            f"{_money(f_revenue):>12}{shown:>9}"
        )
    return 0
