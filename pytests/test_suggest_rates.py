"""`feature-cost suggest-rates`: rate-card prices proposed from the bill."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

import oracle
from conftest import SEED_DIR, DemoBuild
from feature_cost.cli import main
from feature_cost.suggest_rates import CardRatio, propose, stale_cards

JANUARY = date(2026, 1, 1)


def _row(card: str, region: str, start: str, end: str, cpu: str = "0.00001") -> dict[str, str]:
    return {
        "rate_card_id": card,
        "cloud_region": region,
        "instance_family": "*",
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
    out = propose(rows, [CardRatio(JANUARY, "std", "us", 10.0, 11.0)], date(2026, 2, 1))
    assert _periods(out) == [
        ("us", "2025-01-01", "2026-02-01", "0.00001", "0.000002"),
        ("us", "2026-02-01", "", "0.000011", "0.0000022"),
        ("eu", "2025-01-01", "", "0.00001", "0.000002"),
    ]
    assert rows[0]["effective_to"] == "", "the input rows are not changed"


def test_a_wildcard_row_stays_and_the_region_gets_a_row_until_its_next_one() -> None:
    """The `*` row keeps pricing the other regions; the new row for the region ends where the
    region's next row starts, so no periods overlap."""
    rows = [
        _row("std", "*", "2025-01-01", ""),
        _row("std", "us", "2026-03-01", "", cpu="0.00002"),
    ]
    out = propose(rows, [CardRatio(JANUARY, "std", "us", 4.0, 2.0)], date(2026, 2, 1))
    assert _periods(out) == [
        ("*", "2025-01-01", "", "0.00001", "0.000002"),
        ("us", "2026-02-01", "2026-03-01", "0.000005", "0.000001"),
        ("us", "2026-03-01", "", "0.00002", "0.000002"),
    ]


def test_a_row_that_starts_on_the_date_is_replaced() -> None:
    rows = [_row("std", "us", "2026-02-01", "")]
    out = propose(rows, [CardRatio(JANUARY, "std", "us", 1.0, 3.0)], date(2026, 2, 1))
    assert _periods(out) == [("us", "2026-02-01", "", "0.00003", "0.000006")]


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


def test_the_demo_bill_reprices_each_card_by_its_billed_share(
    demo_build: DemoBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Independently of the models: each card and region's ratio is its span-days' compute
    estimate scaled by the billed / estimated ratio of their service, over the estimate (the
    oracle's numbers from the raw files); the proposal's new prices are the old ones times it,
    to four significant figures, from the day after the billed month."""
    result = oracle.compute(
        demo_build.vars["otlp_path"],
        demo_build.vars["revenue_path"],
        demo_build.vars["feature_flags_path"],
        SEED_DIR,
        focus_billing_glob=demo_build.vars["focus_billing_path"],
    )
    estimated: dict[tuple[str, str], float] = defaultdict(float)
    billed: dict[tuple[str, str], float] = defaultdict(float)
    for item in result.span_days:
        group = (item.month, item.span.service, oracle.region(item.span))
        if group not in result.compute_billed or item.unclaimed_compute == 0:
            continue
        key = (item.rate_card_id, oracle.region(item.span))
        estimated[key] += item.unclaimed_compute
        billed[key] += item.unclaimed_compute * result.compute_factors[group]
    assert estimated, "the demo bills some compute"

    out = tmp_path / "rate_cards.proposed.csv"
    args = ["suggest-rates", "--duckdb", str(demo_build.duckdb_path), "--out", str(out)]
    assert main([*args, "--tolerance", "0", "--seeds-dir", str(SEED_DIR)]) == 0
    printed = capsys.readouterr().out
    assert "+++ " in printed and "rate-card-impact" in printed

    with (SEED_DIR / "rate_cards.csv").open(newline="") as handle:
        current = list(csv.DictReader(handle))
    with out.open(newline="") as handle:
        proposed = list(csv.DictReader(handle))
    start = date(2026, 2, 1)
    for (card, region), estimate in estimated.items():
        ratio = billed[(card, region)] / estimate
        source = _in_force(current, card, region, start)
        new = _in_force(proposed, card, region, start)
        assert new["effective_from"] == start.isoformat() and new["cloud_region"] == region
        for column in ("cpu_per_ms", "memory_per_ms", "gpu_per_ms"):
            assert math.isclose(float(new[column]), float(source[column]) * ratio, rel_tol=1e-3), (
                card,
                region,
                column,
            )


def _in_force(rows: list[dict[str, str]], card: str, region: str, day: date) -> dict[str, str]:
    """The row that prices a card in a region on a day: the region's own, else the `*` row."""
    found = [
        r
        for r in rows
        if r["rate_card_id"] == card
        and r["cloud_region"] in (region, "*")
        and r["effective_from"] <= day.isoformat()
        and (r["effective_to"] == "" or day.isoformat() < r["effective_to"])
    ]
    return sorted(found, key=lambda r: r["cloud_region"] == "*")[0]
