"""Propose rate-card prices from the bill: the loop "compare with the bill, adjust the rate
cards until the variance is within +-5 %".

For a billed month (the latest, or ``--month``), every span-day's compute estimate is set beside
what the bill says that compute cost: the estimate times its service's billed / estimated ratio
for the month (``int_compute_billing_factors``, rule 10). The span-days are grouped by the rate-card
row that priced them (the most specific row in force on their day, as the models choose it) and
their region, and each group's ratio is its billed sum over its estimated sum: the factor that
row's compute prices (per vCPU-, GB- and GPU-millisecond) were off by in that region. Query
prices are left alone (shared database pools take their cost from the bill already).

Groups more than ``--tolerance`` off (the method's +-5 %) get a new row from the effective date
(by default the first day after the month) with the row's prices times the ratio: a region's
own row is closed on that day (replaced when it starts that day, such as an earlier proposal
for the same day, so running it twice gives the same file); a `*` row stays for the other
regions and the region gets its own row. A row that ended before the effective date is not
carried forward. A proposal is a file to review: written beside the seeds, never over them,
with its diff printed; ``rate-card-impact`` shows what it would change.

Cards in use whose newest row is older than ``--max-age-days`` (the method reviews rates
weekly) are named as not reviewed recently.

Exit codes: 0 a proposal was written (or nothing needed one); 1 the DuckDB file has no build to
read; 3 a missing rate-card seed or a month that is not the first day of one.
"""

from __future__ import annotations

import csv
import difflib
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from feature_cost.formatting import csv_text, percent, printable, say_no_duckdb_file

PRICE_COLUMNS = ("cpu_per_ms", "memory_per_ms", "gpu_per_ms")
SIGNIFICANT_FIGURES = 4
_OPEN_END = date.max

_USAGE_SQL = """
select
    priced.date_day,
    priced.rate_card_id,
    priced.cloud_region,
    priced.instance_family,
    sum(priced.cpu_cost + priced.memory_cost + priced.gpu_cost) as estimated_cost,
    sum(
        (priced.cpu_cost + priced.memory_cost + priced.gpu_cost)
        * factors.reconciliation_factor
    ) as billed_cost
from main.int_span_days_priced as priced
inner join main.int_compute_billing_factors as factors
    on
        cast(date_trunc('month', priced.date_day) as date) = factors.billing_month
        and priced.service_name = factors.service_name
        and priced.cloud_region = factors.cloud_region
where
    priced.compute_pool_id is null
    and priced.rate_card_row_found
    and factors.reconciliation_factor is not null
    and cast(date_trunc('month', priced.date_day) as date) = ?
group by all
order by all
"""

_BILLED_MONTHS_SQL = """
select
    billing_month,
    (
        select max(date_day) from main.int_billed_costs_by_day
        where cast(date_trunc('month', date_day) as date) = factors.billing_month
    ) as last_billed_day,
    (
        select max(date_day) from main.int_span_days_priced
        where cast(date_trunc('month', date_day) as date) = factors.billing_month
    ) as last_span_day
from main.int_compute_billing_factors as factors
where reconciliation_factor is not null
group by billing_month
order by billing_month
"""

RateRow = dict[str, str]


@dataclass(frozen=True)
class RowRatio:
    """What the compute one rate-card row priced in one region came to on the bill."""

    row: RateRow
    cloud_region: str
    estimated_cost: float
    billed_cost: float

    @property
    def ratio(self) -> float:
        """Billed / estimated: the factor the row's compute prices were off by."""
        return self.billed_cost / self.estimated_cost

    @property
    def label(self) -> str:
        """Card, region, instance family and period of the row, for messages."""
        row = self.row
        period = f"{row['effective_from']}..{row['effective_to'] or ''}"
        return (
            f"{row['rate_card_id']} {self.cloud_region} (row {row['cloud_region']},"
            f" family {row['instance_family']}, {period})"
        )


def _day(text: str) -> date:
    return date.fromisoformat(text) if text else _OPEN_END


def _in_force(row: RateRow, day: date) -> bool:
    return _day(row["effective_from"]) <= day < _day(row["effective_to"])


def pricing_row(
    rows: Sequence[RateRow], card: str, region: str, family: str, day: date
) -> RateRow | None:
    """The row that prices a card, region and instance family on a day, as the models pick
    it: the region's own row before a `*` row, then the family's own row before a `*` row."""
    candidates = [
        row
        for row in rows
        if row["rate_card_id"] == card
        and row["cloud_region"] in (region, "*")
        and row["instance_family"] in (family, "*")
        and _in_force(row, day)
    ]
    candidates.sort(key=lambda r: (r["cloud_region"] == "*", r["instance_family"] == "*"))
    return candidates[0] if candidates else None


def row_ratios(
    rows: Sequence[RateRow], usage: Sequence[tuple[date, str, str, str, float, float]]
) -> list[RowRatio]:
    """Group the billed usage (day, card, region, family, estimated, billed) by the row that
    priced it and its region."""
    estimated: dict[tuple[int, str], float] = defaultdict(float)
    billed: dict[tuple[int, str], float] = defaultdict(float)
    for day, card, region, family, estimate, bill in usage:
        row = pricing_row(rows, card, region, family, day)
        if row is None:
            continue
        key = (rows.index(row), region)
        estimated[key] += estimate
        billed[key] += bill
    return [
        RowRatio(rows[index], region, estimated[(index, region)], billed[(index, region)])
        for index, region in sorted(estimated)
        if estimated[(index, region)] > 0
    ]


def _price(value: Decimal) -> str:
    """A price to a fixed number of significant figures, in plain decimal notation."""
    if value == 0:
        return "0"
    text = format(Decimal(f"{value:.{SIGNIFICANT_FIGURES}g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def propose(
    rows: Sequence[RateRow], ratios: Sequence[RowRatio], effective_from: date
) -> list[RateRow]:
    """The rate-card rows with each ratio applied to its row from ``effective_from``.

    The new row has the priced region and the row's instance family, and runs from the
    effective date (or the row's start, if later) to the row's end, or to where a later row
    of the same card, region and family starts, so no two periods overlap. New rows follow
    the row they come from, so the file's order (and its diff) stays readable.
    """
    copies = [dict(row) for row in rows]
    result = list(copies)
    for ratio in ratios:
        source = copies[rows.index(ratio.row)]
        start = max(effective_from, _day(source["effective_from"]))
        if _day(source["effective_to"]) <= start or not any(r is source for r in result):
            continue
        key = (source["rate_card_id"], ratio.cloud_region, source["instance_family"])
        same_key = [
            row
            for row in result
            if (row["rate_card_id"], row["cloud_region"], row["instance_family"]) == key
            and row is not source
        ]
        # An earlier proposal for the same day is replaced, not compounded.
        replaced = [row for row in same_key if _day(row["effective_from"]) == start]
        result = [row for row in result if not any(row is r for r in replaced)]
        later = [_day(r["effective_from"]) for r in same_key if _day(r["effective_from"]) > start]
        end = min([_day(source["effective_to"]), *later])
        new = dict(source)
        new.update(
            cloud_region=ratio.cloud_region,
            effective_from=start.isoformat(),
            effective_to="" if end == _OPEN_END else end.isoformat(),
        )
        if "price_basis" in new:  # a rate from the bill is no longer a placeholder
            new["price_basis"] = f"the bill: {source['rate_card_id']} repriced by billed/estimated"
        factor = Decimal(repr(ratio.ratio))
        for column in PRICE_COLUMNS:
            new[column] = _price(Decimal(source[column]) * factor)
        position = next(i for i, row in enumerate(result) if row is source) + 1
        if source["cloud_region"] == ratio.cloud_region:
            if _day(source["effective_from"]) >= start:
                position -= 1
                del result[position]
            else:
                source["effective_to"] = start.isoformat()
        result.insert(position, new)
    return result


def stale_cards(
    rows: Sequence[RateRow], cards_in_use: set[str], today: date, max_age_days: int
) -> list[tuple[str, date]]:
    """Cards in use whose newest row took effect more than ``max_age_days`` before ``today``."""
    newest: dict[str, date] = {}
    for row in rows:
        card, start = row["rate_card_id"], _day(row["effective_from"])
        if card in cards_in_use and start > newest.get(card, date.min):
            newest[card] = start
    limit = today - timedelta(days=max_age_days)
    return sorted((card, start) for card, start in newest.items() if start < limit)


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def suggest_rates(
    duckdb_path: Path,
    seeds_dir: Path,
    out: Path,
    *,
    effective_from: date | None = None,
    month: date | None = None,
    max_age_days: int = 7,
    tolerance: float = 0.05,
    today: date | None = None,
) -> int:
    """Write a proposed rate-card file from the bill and print its diff; an exit code."""
    current_path = seeds_dir / "rate_cards.csv"
    if not current_path.is_file():
        print(f"feature-cost suggest-rates: no {printable(current_path)}", file=sys.stderr)
        return 3
    if month is not None and month.day != 1:
        print(
            f"feature-cost suggest-rates: --month {month.isoformat()} is not the first day of a"
            " month",
            file=sys.stderr,
        )
        return 3
    if not duckdb_path.is_file():
        say_no_duckdb_file("suggest-rates", duckdb_path, "run `make build` first")
        return 1
    with current_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    today = today or date.today()
    try:
        with duckdb.connect(str(duckdb_path), read_only=True) as con:
            months = {
                m: (billed, spans)
                for m, billed, spans in con.execute(_BILLED_MONTHS_SQL).fetchall()
            }
            chosen = month or (max(months) if months else None)
            usage = con.execute(_USAGE_SQL, [chosen]).fetchall() if chosen in months else []
            cards_in_use = {
                card
                for (card,) in con.execute(
                    "select distinct rate_card_id from main.int_span_days_priced"
                ).fetchall()
            }
    except duckdb.CatalogException as error:
        print(
            f"feature-cost suggest-rates: {printable(duckdb_path)} has no build to read"
            f" ({printable(str(error).splitlines()[0])}); run `make build` first",
            file=sys.stderr,
        )
        return 1

    for card, start in stale_cards(rows, cards_in_use, today, max_age_days):
        print(
            f"rate card {printable(card)}: newest prices from {start.isoformat()}, not reviewed"
            f" in the last {max_age_days} days"
        )
    if chosen is None or chosen not in months:
        what = f"for {chosen:%Y-%m}" if chosen else "for any month"
        print(f"no billed compute {what} to compare with: no bill line names a service with spans")
        return 0
    last_billed, last_span = months[chosen]
    if last_billed is not None and last_span is not None and last_billed < last_span:
        print(
            f"the bill for {chosen:%Y-%m} ends on {last_billed.isoformat()}, the spans on"
            f" {last_span.isoformat()}: the month is partly billed, so its ratios understate;"
            " rerun once the bill is complete"
        )
    ratios = row_ratios(rows, usage)
    off = [r for r in ratios if abs(r.ratio - 1) > tolerance]
    for r in ratios:
        verdict = "within tolerance"
        if r in off:
            verdict = "to reprice" if r.ratio > 0 else "not repriced: the bill is not positive"
        print(
            f"{chosen:%Y-%m} {printable(r.label)}: billed / estimated compute {r.ratio:.4f}"
            f" ({percent(r.ratio - 1)}), {verdict}"
        )
    off = [r for r in off if r.ratio > 0]
    if not off:
        print(f"every row is within {percent(tolerance)} of the bill: nothing to propose")
        return 0
    start = effective_from or _first_of_next_month(chosen)
    proposed = propose(rows, off, start)
    before, after = csv_text(header, rows), csv_text(header, proposed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(after, encoding="utf-8")
    sys.stdout.writelines(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(current_path),
            tofile=str(out),
        )
    )
    print(
        f"proposed rate cards from {start.isoformat()} written to {printable(out)}; see their"
        f" effect with: feature-cost rate-card-impact {printable(out)}"
    )
    if start <= today:
        print(
            f"{start.isoformat()} is not in the future: once applied, the days already built"
            " keep their price until a backfill: dbt seed, then dbt build --event-time-start"
            f" {start.isoformat()} --event-time-end {(today + timedelta(days=1)).isoformat()}"
        )
    return 0
