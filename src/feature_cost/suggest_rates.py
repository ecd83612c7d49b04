"""Propose rate-card prices from the bill: the loop "compare with the bill, adjust the rate
cards until the variance is within +-5 %".

For the latest month the bill covers (or ``--month``), each rate card's compute estimate in a
region is compared with what the bill says that compute cost (cards within ``--tolerance``,
the method's +-5 %, are left as they are): every service's estimate is
scaled by its billed / estimated ratio (``int_compute_billing_factors``, rule 10), and the card's
blended ratio is the scaled sum over its services divided by the estimated sum. The card's
rows in force on the new effective date get a new row from that date with their compute prices
(per vCPU-, GB- and GPU-millisecond) times the ratio; query prices are left alone (shared
database pools take their cost from the bill already). A proposal is a file to review: it is
written beside the seeds, never over them, with its diff printed, and ``rate-card-impact``
shows what it would change.

Cards in use whose newest row is older than ``--max-age-days`` (the method reviews rates weekly)
are named as not reviewed recently.

Exit codes: 0 a proposal was written (or nothing needed one); 1 the DuckDB file has no build to
read; 3 bad arguments.
"""

from __future__ import annotations

import csv
import difflib
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from feature_cost.formatting import percent, printable

PRICE_COLUMNS = ("cpu_per_ms", "memory_per_ms", "gpu_per_ms")
SIGNIFICANT_FIGURES = 4
_OPEN_END = date.max

_RATIOS_SQL = """
with
estimates as (
    select
        cast(date_trunc('month', date_day) as date) as billing_month,
        rate_card_id,
        cloud_region,
        service_name,
        sum(cpu_cost + memory_cost + gpu_cost) as estimated_cost
    from main.int_span_days_priced
    where compute_pool_id is null and cloud_region is not null
    group by all
)
select
    estimates.billing_month,
    estimates.rate_card_id,
    estimates.cloud_region,
    sum(estimates.estimated_cost) as estimated_cost,
    sum(estimates.estimated_cost * factors.reconciliation_factor) as billed_cost
from estimates
inner join main.int_compute_billing_factors as factors
    on
        estimates.billing_month = factors.billing_month
        and estimates.service_name = factors.service_name
        and estimates.cloud_region = factors.cloud_region
where factors.reconciliation_factor is not null
group by all
having sum(estimates.estimated_cost) > 0
order by all
"""


@dataclass(frozen=True)
class CardRatio:
    """What a rate card's compute estimate in one region and month came to on the bill."""

    billing_month: date
    rate_card_id: str
    cloud_region: str
    estimated_cost: float
    billed_cost: float

    @property
    def ratio(self) -> float:
        """Billed / estimated: the factor the card's compute prices are off by."""
        return self.billed_cost / self.estimated_cost


def card_ratios(con: duckdb.DuckDBPyConnection, month: date | None = None) -> list[CardRatio]:
    """Each card and region's billed / estimated compute, for ``month`` or the latest billed."""
    rows = [CardRatio(*row) for row in con.execute(_RATIOS_SQL).fetchall()]
    if not rows:
        return []
    chosen = month or max(r.billing_month for r in rows)
    return [r for r in rows if r.billing_month == chosen]


def _day(text: str) -> date:
    return date.fromisoformat(text) if text else _OPEN_END


def _price(value: Decimal) -> str:
    """A price to a fixed number of significant figures, in plain decimal notation."""
    if value == 0:
        return "0"
    rounded = Decimal(f"{value:.{SIGNIFICANT_FIGURES}g}")
    text = format(rounded, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _in_force(row: dict[str, str], day: date) -> bool:
    return _day(row["effective_from"]) <= day < _day(row["effective_to"])


def propose(
    rows: Sequence[dict[str, str]], ratios: Sequence[CardRatio], effective_from: date
) -> list[dict[str, str]]:
    """The rate-card rows with the ratios applied from ``effective_from``.

    For each card and region with a ratio, the rows that price it on that day (the region's
    own row where there is one, else the card's `*` row, for each instance family) are
    repriced in a new row for that region from ``effective_from``. A region's own row is
    closed on that day (replaced when it starts that day); a `*` row stays for the other
    regions. The new row ends where the old one did, or where a later row of the same card,
    region and family starts, so no two periods overlap. New rows follow the row they come
    from, so the file's order (and its diff) stays readable.
    """
    result = [dict(row) for row in rows]
    for ratio in ratios:
        factor = Decimal(repr(ratio.ratio))
        card_rows = [
            row
            for row in result
            if row["rate_card_id"] == ratio.rate_card_id
            and row["cloud_region"] in (ratio.cloud_region, "*")
            and _in_force(row, effective_from)
        ]
        by_family: dict[str, dict[str, str]] = {}
        for row in sorted(card_rows, key=lambda r: r["cloud_region"] == "*"):
            by_family.setdefault(row["instance_family"], row)
        for family, current in sorted(by_family.items()):
            later_starts = [
                _day(row["effective_from"])
                for row in result
                if (row["rate_card_id"], row["cloud_region"], row["instance_family"])
                == (ratio.rate_card_id, ratio.cloud_region, family)
                and _day(row["effective_from"]) > effective_from
            ]
            end = min([_day(current["effective_to"]), *later_starts])
            new = dict(current)
            new.update(
                cloud_region=ratio.cloud_region,
                effective_from=effective_from.isoformat(),
                effective_to="" if end == _OPEN_END else end.isoformat(),
            )
            for column in PRICE_COLUMNS:
                new[column] = _price(Decimal(current[column]) * factor)
            position = result.index(current) + 1
            if current["cloud_region"] == ratio.cloud_region:
                if _day(current["effective_from"]) == effective_from:
                    position -= 1
                    del result[position]
                else:
                    current["effective_to"] = effective_from.isoformat()
            result.insert(position, new)
    return result


def stale_cards(
    rows: Sequence[dict[str, str]], cards_in_use: set[str], today: date, max_age_days: int
) -> list[tuple[str, date]]:
    """Cards in use whose newest row took effect more than ``max_age_days`` before ``today``."""
    newest: dict[str, date] = {}
    for row in rows:
        card, start = row["rate_card_id"], _day(row["effective_from"])
        if card in cards_in_use and start > newest.get(card, date.min):
            newest[card] = start
    limit = today - timedelta(days=max_age_days)
    return sorted((card, start) for card, start in newest.items() if start < limit)


def _csv_text(header: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


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
    if not duckdb_path.is_file():
        print(
            f"feature-cost suggest-rates: no DuckDB file at {printable(duckdb_path)};"
            " run `make build` first",
            file=sys.stderr,
        )
        return 1
    with current_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    try:
        with duckdb.connect(str(duckdb_path), read_only=True) as con:
            ratios = card_ratios(con, month)
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

    for card, start in stale_cards(rows, cards_in_use, today or date.today(), max_age_days):
        print(
            f"rate card {printable(card)}: newest prices from {start.isoformat()}, not reviewed"
            f" in the last {max_age_days} days"
        )
    if not ratios:
        print("no billed compute to compare with: the bill has no line for a service with spans")
        return 0
    after_month = max(r.billing_month for r in ratios).replace(day=28) + timedelta(days=4)
    start = effective_from or after_month.replace(day=1)
    off = [r for r in ratios if abs(r.ratio - 1) > tolerance]
    for r in ratios:
        verdict = "to reprice" if r in off else "within tolerance"
        print(
            f"{r.billing_month:%Y-%m} {printable(r.rate_card_id)} {printable(r.cloud_region)}:"
            f" billed / estimated compute {r.ratio:.4f} ({percent(r.ratio - 1)}), {verdict}"
        )
    if not off:
        print(f"every card is within {percent(tolerance)} of the bill: nothing to propose")
        return 0
    proposed = propose(rows, off, start)
    before, after = _csv_text(header, rows), _csv_text(header, proposed)
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
    return 0
