"""``feature-cost check``: what the seeds lack for the telemetry in a built file, in plain words.

A build on traces the seeds were not written for stops at two data tests
(``assert_rate_cards_cover_usage``, ``assert_llm_prices_cover_usage``) with a count of rows.
The span models are built before those tests run, so this command reads the same gaps from
``main.int_span_days_priced`` and says, for each, which seed needs which row: consecutive
days of one gap are one line (``2026-10-01..2026-10-03``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from feature_cost.formatting import printable, say_no_duckdb_file

EXIT_COMPLETE = 0
EXIT_GAPS = 1
EXIT_NOT_BUILT = 2

PRICED = "main.int_span_days_priced"

RATE_CARD_GAPS = f"""
select
    rate_card_id,
    coalesce(cloud_region, '__unknown__'),
    instance_family,
    date_day,
    count(*)
from {PRICED}
where not rate_card_row_found
group by all
order by all
"""

LLM_PRICE_GAPS = f"""
select
    coalesce(gen_ai_request_model, '(no gen_ai.request.model)'),
    date_day,
    count(*)
from {PRICED}
where not llm_price_found
group by all
order by all
"""


@dataclass(frozen=True)
class Gap:
    """One thing the seeds lack, on a run of consecutive days."""

    what: str
    first: date
    last: date
    count: int
    fix: str

    def line(self) -> str:
        days = str(self.first) if self.first == self.last else f"{self.first}..{self.last}"
        return f"{self.what} on {days} ({self.count}): {self.fix}"


def day_runs(days: Iterable[tuple[date, int]]) -> list[tuple[date, date, int]]:
    """Sorted (day, count) pairs as runs of consecutive days: (first, last, summed count)."""
    runs: list[tuple[date, date, int]] = []
    for day, count in sorted(days):
        if runs and day - runs[-1][1] == timedelta(days=1):
            first, _, total = runs[-1]
            runs[-1] = (first, day, total + count)
        else:
            runs.append((day, day, count))
    return runs


def _grouped(rows: Sequence[tuple]) -> dict[tuple, list[tuple[date, int]]]:
    """Rows of (key..., day, count) by their key."""
    grouped: dict[tuple, list[tuple[date, int]]] = {}
    for *key, day, count in rows:
        grouped.setdefault(tuple(key), []).append((day, int(count)))
    return grouped


def find_gaps(con: duckdb.DuckDBPyConnection) -> list[Gap]:
    """Every rate-card and LLM-price gap of the built span-days, oldest first per key."""
    gaps: list[Gap] = []
    for (card, region, family), days in _grouped(con.execute(RATE_CARD_GAPS).fetchall()).items():
        what = f"rate card `{card}` has no row for region `{region}`, instance family `{family}`"
        fix = (
            f"add a row for `{card}` to rate_cards.csv of your seeds (or one with region or"
            " family `*`) in force on those days"
        )
        for first, last, count in day_runs(days):
            gaps.append(Gap(what, first, last, count, fix + f" [{count} span-days]"))
    for (model,), days in _grouped(con.execute(LLM_PRICE_GAPS).fetchall()).items():
        what = f"LLM model `{model}` has no price"
        fix = "add a row for it to llm_model_prices.csv of your seeds in force on those days"
        for first, last, count in day_runs(days):
            gaps.append(Gap(what, first, last, count, fix + f" [{count} calls]"))
    return gaps


def run_check(duckdb_path: Path) -> int:
    """Print the gaps of a built file; return a process exit code (0 none, 1 gaps, 2 no build)."""
    if not duckdb_path.is_file():
        say_no_duckdb_file("check", duckdb_path, "run dbt build into it first")
        return EXIT_NOT_BUILT
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        built = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'main' and table_name = 'int_span_days_priced'"
        ).fetchone()
        if not built or built[0] == 0:
            print(
                f"feature-cost check: {printable(str(duckdb_path))} has no"
                f" {PRICED}; run dbt build into it first (a build that stops at the price"
                " tests has built it)",
                file=sys.stderr,
            )
            return EXIT_NOT_BUILT
        gaps = find_gaps(con)
    if not gaps:
        print("Every span-day found its rate card row and every LLM call its price.")
        return EXIT_COMPLETE
    print(f"{len(gaps)} gap(s) in the seeds:")
    for gap in gaps:
        print("  " + printable(gap.line()))
    return EXIT_GAPS
