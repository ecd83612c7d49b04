"""A short, human-readable summary of the public mart, read from the DuckDB file."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from feature_cost import MARTS_SCHEMA
from feature_cost.alerts import alerts_of
from feature_cost.formatting import percent, printable, sig
from feature_cost.report import completeness, one_row

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
    (sum(revenue) - sum(total_cost)) / nullif(sum(total_cost), 0) as margin,
    (sum(revenue) - sum(total_cost)) / nullif(sum(revenue), 0) as gross_margin
from {marts}.feature_cost_margin
where {where}
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
from {marts}.feature_cost_margin
where {where}
"""


def print_summary(path: Path, top: int = 10) -> int:
    """Print totals, the costliest features and the alerts; returns a process exit code.

    Every text value read from the file is printed through ``printable``.
    """
    if not path.exists():
        print(
            f"feature-cost summary: no DuckDB file at {printable(path)}; run `make demo` first",
            file=sys.stderr,
        )
        return 1
    with duckdb.connect(str(path), read_only=True) as con:
        scope = completeness(con)
        first, last, tenants, cost, revenue, currency = one_row(
            con, _TOTALS.format(marts=MARTS_SCHEMA, where=scope.where)
        )
        rows = con.execute(
            _BY_FEATURE.format(marts=MARTS_SCHEMA, where=scope.where), [top]
        ).fetchall()
        alerts = alerts_of(con)
    print(
        f"feature_cost_margin: {printable(first)} to {printable(last)}, {tenants} tenants,"
        f" currency {printable(currency)}"
    )
    print(f"total cost {sig(cost)}  revenue {sig(revenue)}")
    if scope.note:
        print(scope.note)
    header = (
        f"{'feature':<22}{'requests':>9}{'direct':>9}{'shared':>9}{'amort.':>9}"
        f"{'cost':>9}{'range':>17}{'revenue':>9}{'margin':>9}{'gross':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        (_group, feature, requests, direct, shared, amortized, f_cost, low, high, f_rev) = row[:10]
        margin, gross_margin = row[10:]
        cost_range = f"{sig(low)}-{sig(high)}"
        print(
            f"{printable(feature):<22}{requests:>9,}{sig(direct):>9}"
            f"{sig(shared):>9}"
            f"{sig(amortized):>9}{sig(f_cost):>9}{cost_range:>17}"
            f"{sig(f_rev):>9}{percent(margin):>9}{percent(gross_margin):>9}"
        )
    print(f"\ncost alerts: {len(alerts)}")
    for alert in alerts:
        print(f"  {alert.line()}")
    return 0
