"""A short, human-readable summary of the public mart, read from the DuckDB file."""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import duckdb

from feature_cost.report import completeness, percent

# ANSI (ECMA-48) escape sequences, in their 7-bit (ESC ...) and 8-bit (C1) forms: control
# sequences (CSI: colours, cursor moves, erasing), control strings (OSC: window titles,
# hyperlinks; DCS, SOS, PM, APC) up to their terminator, and two-character escapes.
_ANSI_ESCAPE = re.compile(
    r"""
    (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)
    | \x1b [\x20-\x2f]* [\x30-\x7e]?
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

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
from main.feature_cost_margin
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
from main.feature_cost_margin
where {where}
"""


def printable(value: object) -> str:
    """A value as text that is safe to print to a terminal.

    Ids come from telemetry anyone can send: ANSI escape sequences (colours, cursor moves,
    window titles, hyperlinks) are removed, and every other control or invisible formatting
    character (C0, DEL, C1, bidirectional overrides, line separators) is shown escaped as
    ``\\xNN`` or ``\\uNNNN``, so one line of output stays one line and reads as stored.
    """
    text = _ANSI_ESCAPE.sub("", "" if value is None else str(value))
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
        first, last, tenants, cost, revenue, currency = con.execute(
            _TOTALS.format(where=scope.where)
        ).fetchone()
        rows = con.execute(_BY_FEATURE.format(where=scope.where), [top]).fetchall()
        # Imported here: the alerts module prints with this module's helpers.
        from feature_cost.alerts import alerts_of

        alerts = alerts_of(con)
    print(
        f"feature_cost_margin: {printable(first)} to {printable(last)}, {tenants} tenants,"
        f" currency {printable(currency)}"
    )
    print(f"total cost {significant(cost)}  revenue {significant(revenue)}")
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
        cost_range = f"{significant(low)}-{significant(high)}"
        print(
            f"{printable(feature):<22}{requests:>9,}{significant(direct):>9}"
            f"{significant(shared):>9}"
            f"{significant(amortized):>9}{significant(f_cost):>9}{cost_range:>17}"
            f"{significant(f_rev):>9}{percent(margin):>9}{percent(gross_margin):>9}"
        )
    print(f"\ncost alerts: {len(alerts)}")
    for alert in alerts:
        print(f"  {alert.line()}")
    return 0
