"""A short, human-readable summary of the public mart, read from the DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from feature_cost import MARTS_SCHEMA
from feature_cost.alerts import alerts_of
from feature_cost.formatting import percent, printable, say_no_duckdb_file, sig
from feature_cost.report import completeness, one_row, table_columns

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
        say_no_duckdb_file("summary", path, "run `make demo` first")
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
        placeholders = placeholder_lines(con)
    print(
        f"feature_cost_margin: {printable(first)} to {printable(last)}, {tenants} tenants,"
        f" currency {printable(currency)}"
    )
    print(f"total cost {sig(cost)}  revenue {sig(revenue)}")
    if scope.note:
        print(scope.note)
    columns = [
        ("requests", 9), ("direct", 9), ("shared", 9), ("amort.", 9), ("cost", 9),
        ("range", 17), ("revenue", 9), ("margin", 8), ("gross", 8),
    ]  # fmt: skip
    header = f"{'feature':<22}" + "".join(f" {name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))
    for row in rows:
        (_group, feature, requests, direct, shared, amortized, f_cost, low, high, f_rev) = row[:10]
        margin, gross_margin = row[10:]
        cells = [
            f"{requests:,}", sig(direct), sig(shared), sig(amortized), sig(f_cost),
            f"{sig(low)}-{sig(high)}", sig(f_rev), percent(margin), percent(gross_margin),
        ]  # fmt: skip
        print(
            f"{printable(feature):<22}"
            + "".join(f" {cell:>{width}}" for cell, (_, width) in zip(cells, columns, strict=True))
        )
    for line in placeholders:
        print(line)
    print(f"\ncost alerts: {len(alerts)}")
    for alert in alerts:
        print(f"  {alert.line()}")
    return 0


# The seeds `feature-cost init` writes mark each price it took from a public list price.
_PLACEHOLDERS = """
select count(*), string_agg(distinct {key}, ', ' order by {key})
from main.{seed}
where starts_with(price_basis, 'placeholder:')
"""


def placeholder_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the build priced with placeholders (seeds with a ``price_basis`` column)."""
    lines = []
    for seed, key in (
        ("rate_cards", "rate_card_id || ' ' || cloud_region"),
        ("llm_model_prices", "model"),
    ):
        if "price_basis" not in (table_columns(con, seed, "main") or set()):
            continue
        count, keys = one_row(con, _PLACEHOLDERS.format(seed=seed, key=key))
        if count:
            lines.append(
                f"placeholder prices in {seed} ({count}): {printable(keys)};"
                f" replace them in {seed}.csv of your seeds with your own"
            )
    if lines:
        lines.insert(0, "")
    return lines
