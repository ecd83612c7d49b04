"""`feature-cost suggest-rates`: rate-card prices proposed from the bill."""

from __future__ import annotations

import csv
import itertools
import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

import oracle
from conftest import SEED_DIR, DemoBuild
from feature_cost.cli import main
from feature_cost.suggest_rates import RowRatio, pricing_row, propose, row_ratios, stale_cards

FEBRUARY = date(2026, 2, 1)


def _row(
    card: str, region: str, start: str, end: str, cpu: str = "0.00001", family: str = "*"
) -> dict[str, str]:
    return {
        "rate_card_id": card,
        "cloud_region": region,
        "instance_family": family,
        "effective_from": start,
        "effective_to": end,
        "cpu_per_ms": cpu,
        "memory_per_ms": "0.000002",
        "gpu_per_ms": "0",
        "db_query_base": "0.000004",
        "currency": "USD",
    }


def _periods(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            r["cloud_region"],
            r["effective_from"],
            r["effective_to"],
            r["cpu_per_ms"],
            r["memory_per_ms"],
        )
        for r in rows
    ]


def test_a_regions_own_row_is_closed_and_repriced_from_the_date() -> None:
    rows = [_row("std", "us", "2025-01-01", ""), _row("std", "eu", "2025-01-01", "")]
    out = propose(rows, [RowRatio(rows[0], "us", 10.0, 11.0)], FEBRUARY)
    assert _periods(out) == [
        ("us", "2025-01-01", "2026-02-01", "0.00001", "0.000002"),
        ("us", "2026-02-01", "", "0.000011", "0.0000022"),
        ("eu", "2025-01-01", "", "0.00001", "0.000002"),
    ]
    assert rows[0]["effective_to"] == "", "the input rows are not changed"


def test_a_rate_from_the_bill_is_no_longer_marked_a_placeholder() -> None:
    rows = [{**_row("std", "us", "2025-01-01", ""), "price_basis": "placeholder: list price"}]
    out = propose(rows, [RowRatio(rows[0], "us", 10.0, 11.0)], FEBRUARY)
    assert [r["price_basis"].split(":")[0] for r in out] == ["placeholder", "the bill"]


def test_a_wildcard_row_stays_and_the_region_gets_a_row_until_its_next_one() -> None:
    """The `*` row keeps pricing the other regions; the new row for the region ends where the
    region's next row starts, so no periods overlap."""
    rows = [
        _row("std", "*", "2025-01-01", ""),
        _row("std", "us", "2026-03-01", "", cpu="0.00002"),
    ]
    out = propose(rows, [RowRatio(rows[0], "us", 4.0, 2.0)], FEBRUARY)
    assert _periods(out) == [
        ("*", "2025-01-01", "", "0.00001", "0.000002"),
        ("us", "2026-02-01", "2026-03-01", "0.000005", "0.000001"),
        ("us", "2026-03-01", "", "0.00002", "0.000002"),
    ]


def test_proposing_twice_gives_the_same_file() -> None:
    """A proposal already adopted for the same day is replaced, not repriced again: the ratio
    belongs to the row that priced the billed month."""
    rows = [_row("std", "us", "2025-01-01", "")]
    ratio = RowRatio(rows[0], "us", 1.0, 3.0)
    once = propose(rows, [ratio], FEBRUARY)
    again = propose(once, [RowRatio(once[0], "us", 1.0, 3.0)], FEBRUARY)
    assert (
        _periods(again)
        == _periods(once)
        == [
            ("us", "2025-01-01", "2026-02-01", "0.00001", "0.000002"),
            ("us", "2026-02-01", "", "0.00003", "0.000006"),
        ]
    )


def test_each_row_of_a_month_gets_its_own_ratio() -> None:
    """A price that changed mid-month: each row is compared with the bill for the days it
    priced, and a correction from the month's first day reprices both."""
    rows = [
        _row("std", "us", "2025-01-01", "2026-01-08", cpu="0.00003"),
        _row("std", "us", "2026-01-08", "", cpu="0.00002"),
    ]
    usage = [
        (date(2026, 1, 5), "std", "us", "m5", 10.0, 20.0),
        (date(2026, 1, 9), "std", "us", "m5", 10.0, 5.0),
    ]
    ratios = row_ratios(rows, usage)
    assert [(r.row["effective_from"], r.ratio) for r in ratios] == [
        ("2025-01-01", 2.0),
        ("2026-01-08", 0.5),
    ]
    out = propose(rows, ratios, date(2026, 1, 1))
    assert [(r["effective_from"], r["effective_to"], r["cpu_per_ms"]) for r in out] == [
        ("2025-01-01", "2026-01-01", "0.00003"),
        ("2026-01-01", "2026-01-08", "0.00006"),
        ("2026-01-08", "", "0.00001"),
    ]
    assert [r["cpu_per_ms"] for r in propose(rows, ratios, FEBRUARY)] == [
        "0.00003",
        "0.00002",
        "0.00001",
    ]


def test_the_row_that_priced_the_usage_is_the_one_repriced() -> None:
    """As the models rank rows: the region's own row before a `*` region, then the family's
    own row. Usage of family m5 in us priced by (us, *) reprices (us, *), never (*, m5)."""
    rows = [
        _row("std", "us", "2025-01-01", "", cpu="0.00001"),
        _row("std", "*", "2025-01-01", "", cpu="0.00005", family="m5"),
    ]
    assert pricing_row(rows, "std", "us", "m5", FEBRUARY) is rows[0]
    assert pricing_row(rows, "std", "eu", "m5", FEBRUARY) is rows[1]
    assert pricing_row(rows, "std", "eu", "c5", FEBRUARY) is None
    ratios = row_ratios(rows, [(date(2026, 1, 5), "std", "us", "m5", 1.0, 2.0)])
    out = propose(rows, ratios, FEBRUARY)
    assert [(r["cloud_region"], r["instance_family"], r["cpu_per_ms"]) for r in out] == [
        ("us", "*", "0.00001"),
        ("us", "*", "0.00002"),
        ("*", "m5", "0.00005"),
    ]


def test_a_row_that_ended_before_the_date_is_not_carried_forward() -> None:
    rows = [_row("std", "us", "2025-01-01", "2026-01-20")]
    assert propose(rows, [RowRatio(rows[0], "us", 1.0, 2.0)], FEBRUARY) == rows


def test_cards_in_use_without_recent_prices_are_named() -> None:
    rows = [
        _row("std", "us", "2025-01-01", "2026-01-08"),
        _row("std", "us", "2026-01-08", ""),
        _row("old", "us", "2025-01-01", ""),
        _row("unused", "us", "2025-01-01", ""),
    ]
    found = stale_cards(rows, {"std", "old"}, date(2026, 1, 20), max_age_days=7)
    assert found == [("old", date(2025, 1, 1)), ("std", date(2026, 1, 8))]
    assert stale_cards(rows, {"std"}, date(2026, 1, 12), max_age_days=7) == []


def test_the_demo_bill_repriced_at_the_proposal_comes_to_the_bill(
    demo_build: DemoBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Independently of the models (the oracle reads the raw files): January's compute, grouped
    by the rate-card row that priced it and its region, repriced at the proposal's rows (a
    correction from January 1st), comes to what the bill says it cost, to the proposal's four
    significant figures; and no two rows of one card, region and family overlap."""
    result = oracle.compute(
        demo_build.vars["otlp_path"],
        demo_build.vars["revenue_path"],
        demo_build.vars["feature_flags_path"],
        SEED_DIR,
        focus_billing_glob=demo_build.vars["focus_billing_path"],
    )
    out = tmp_path / "rate_cards.proposed.csv"
    args = ["suggest-rates", "--duckdb", str(demo_build.duckdb_path), "--out", str(out)]
    args += ["--tolerance", "0", "--seeds-dir", str(SEED_DIR), "--effective-from", "2026-01-01"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "+++ " in printed and "rate-card-impact" in printed
    with out.open(newline="") as handle:
        proposed = list(csv.DictReader(handle))

    repriced: dict[tuple[str, str, str], float] = defaultdict(float)
    billed: dict[tuple[str, str, str], float] = defaultdict(float)
    for item in result.span_days:
        group = (item.month, item.span.service, oracle.region(item.span))
        if group not in result.compute_billed or item.unclaimed_compute == 0:
            continue
        assert item.rate_card is not None
        region, family = oracle.region(item.span), oracle.instance_family(item.span)
        new = pricing_row(proposed, item.rate_card_id, region, family, item.day)
        assert new is not None and new["effective_from"] >= "2026-01-01", (region, item.day)
        price = next(c for c in ("cpu_per_ms", "memory_per_ms") if getattr(item.rate_card, c))
        key = (item.rate_card_id, region, item.rate_card.effective_from.isoformat())
        repriced[key] += item.unclaimed_compute * float(new[price]) / getattr(item.rate_card, price)
        billed[key] += item.unclaimed_compute * result.compute_factors[group]
    assert len(billed) >= 5, "the demo bills compute priced by several rows"
    for key, bill in billed.items():
        assert math.isclose(repriced[key], bill, rel_tol=1e-3), key

    periods: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    for row in proposed:
        key = (row["rate_card_id"], row["cloud_region"], row["instance_family"])
        periods[key].append((row["effective_from"], row["effective_to"] or "9999-12-31"))
    for key, spans in periods.items():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), key
