"""The demo's seeds for a demo on any dates: ``seeds/`` moved to the generated days.

``seeds/`` holds the demo's reference values, written for a demo that starts on
``REFERENCE_START`` (a shared pool's bill for that week, a price change on its fourth day, the
month's team costs and budgets). A demo generated for other days (by default the week that
ended yesterday, so date-filtered queries and source freshness work on it) gets a copy of
them moved by the same number of days, written beside its telemetry:

- every date moves by ``start - REFERENCE_START`` days, so a price still changes on the demo's
  fourth day and a feature is as old on the demo's first day as on the reference's;
- a row that is a calendar month (``cost_budgets.month_start``; a ``team_costs`` period from
  the 1st to the 1st of the next month) becomes one row per calendar month the demo's days
  touch, with the same amount, because budgets and team costs are monthly;
- a bill for the reference week (``shared_resource_costs``) becomes a bill for the demo's
  days, its cost scaled by their number, so a pool costs as much a day and nothing is billed
  for days the demo does not have.

Generated on ``REFERENCE_START`` for the reference's days, the copy is ``seeds/`` byte for byte.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from feature_cost.formatting import csv_text

REFERENCE_START = date(2026, 1, 5)
REFERENCE_DAYS = 7
# Seeds whose rows bill a period: its start, end and cost.
PERIOD_COSTS = {"shared_resource_costs.csv": ("period_start", "period_end", "cost")}
# Columns that hold a calendar month as its first day (with the period's end, if any).
MONTH_COLUMNS = {
    "cost_budgets.csv": ("month_start", None),
    "team_costs.csv": ("period_start", "period_end"),
}


def _is_date(text: str | None) -> bool:
    if not isinstance(text, str):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_touched(start: date, days: int) -> list[date]:
    """The first day of every calendar month that has one of the ``days`` days from ``start``."""
    month = start.replace(day=1)
    last = start + timedelta(days=days - 1)
    months = []
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def _is_month_row(row: dict[str, str], start_column: str, end_column: str | None) -> bool:
    first = row[start_column]
    if not _is_date(first) or date.fromisoformat(first).day != 1:
        return False
    if end_column is None:
        return True
    end = row[end_column]
    return _is_date(end) and date.fromisoformat(end) == next_month(date.fromisoformat(first))


def moved_rows(
    name: str, rows: list[dict[str, str]], start: date, days: int
) -> list[dict[str, str]]:
    """One seed's rows moved from the reference's days to ``days`` days from ``start``."""
    offset = start - REFERENCE_START
    start_column, end_column = MONTH_COLUMNS.get(name, (None, None))
    week = (REFERENCE_START.isoformat(), (REFERENCE_START + timedelta(REFERENCE_DAYS)).isoformat())
    moved: list[dict[str, str]] = []
    for row in rows:
        if start_column is not None and _is_month_row(row, start_column, end_column):
            for month in months_touched(start, days):
                copy = dict(row, **{start_column: month.isoformat()})
                if end_column is not None:
                    copy[end_column] = next_month(month).isoformat()
                if copy not in moved:
                    moved.append(copy)
            continue
        if name in PERIOD_COSTS:
            first, end, cost = PERIOD_COSTS[name]
            if (row[first], row[end]) == week:
                scaled = Decimal(row[cost]) * days / REFERENCE_DAYS
                moved.append(
                    dict(
                        row,
                        **{
                            first: start.isoformat(),
                            end: (start + timedelta(days)).isoformat(),
                            cost: f"{scaled.quantize(Decimal('0.01'))}",
                        },
                    )
                )
                continue
        moved.append(
            {
                column: (date.fromisoformat(value) + offset).isoformat()
                if _is_date(value)
                else value
                for column, value in row.items()
            }
        )
    return moved


def write_demo_seeds(reference_dir: Path, out_dir: Path, start: date, days: int) -> list[Path]:
    """Write each seed of ``reference_dir`` to ``out_dir``, moved to ``start`` and ``days``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(reference_dir.glob("*.csv")):
        with source.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
        target = out_dir / source.name
        target.write_text(
            csv_text(header, moved_rows(source.name, rows, start, days)), encoding="utf-8"
        )
        written.append(target)
    return written
