"""The demo on any days: its seeds moved from the reference days to the generated ones."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SEED_DIR, read_csv
from feature_cost.cli import main
from feature_cost.demo_seeds import (
    REFERENCE_DAYS,
    REFERENCE_START,
    months_touched,
    write_demo_seeds,
)


def test_on_the_reference_days_the_copy_is_the_seeds_byte_for_byte(tmp_path: Path) -> None:
    written = write_demo_seeds(SEED_DIR, tmp_path, REFERENCE_START, 7)
    assert sorted(p.name for p in written) == sorted(p.name for p in SEED_DIR.glob("*.csv"))
    for path in written:
        assert path.read_bytes() == (SEED_DIR / path.name).read_bytes(), path.name


def test_dates_move_with_the_demo_and_monthly_rows_cover_every_month_it_touches(
    tmp_path: Path,
) -> None:
    """A demo from 2026-11-27 for 7 days touches November and December."""
    start = date(2026, 11, 27)
    offset = start - REFERENCE_START
    write_demo_seeds(SEED_DIR, tmp_path, start, 7)

    # A point in time moves by the offset: the price change stays on the demo's fourth day.
    reference_changes = {r["effective_to"] for r in read_csv(SEED_DIR / "rate_cards.csv")} - {""}
    moved_changes = {r["effective_to"] for r in read_csv(tmp_path / "rate_cards.csv")} - {""}
    assert moved_changes == {
        (date.fromisoformat(d) + offset).isoformat() for d in reference_changes
    }
    assert moved_changes == {(start + timedelta(days=3)).isoformat()}
    launches = {
        r["feature_id"]: r["launch_date"] for r in read_csv(tmp_path / "feature_build_costs.csv")
    }
    for row in read_csv(SEED_DIR / "feature_build_costs.csv"):
        moved = date.fromisoformat(launches[row["feature_id"]])
        assert moved - start == date.fromisoformat(row["launch_date"]) - REFERENCE_START
    pools = read_csv(tmp_path / "shared_resource_costs.csv")
    assert {(r["period_start"], r["period_end"]) for r in pools} == {("2026-11-27", "2026-12-04")}

    # A calendar month becomes each month the demo touches, with the same amount.
    assert months_touched(start, 7) == [date(2026, 11, 1), date(2026, 12, 1)]
    team_costs = read_csv(tmp_path / "team_costs.csv")
    reference_teams = read_csv(SEED_DIR / "team_costs.csv")
    assert len(team_costs) == 2 * len(reference_teams)
    assert {(r["period_start"], r["period_end"]) for r in team_costs} == {
        ("2026-11-01", "2026-12-01"),
        ("2026-12-01", "2027-01-01"),
    }
    assert sorted(float(r["team_cost"]) for r in team_costs) == sorted(
        2 * [float(r["team_cost"]) for r in reference_teams]
    )
    budgets = read_csv(tmp_path / "cost_budgets.csv")
    assert {r["month_start"] for r in budgets} == {"2026-11-01", "2026-12-01"}
    assert len(budgets) == 2 * len(read_csv(SEED_DIR / "cost_budgets.csv"))


@pytest.mark.parametrize("days", [1, 3, 10])
def test_the_pools_bill_covers_the_demos_days_at_the_reference_daily_cost(
    tmp_path: Path, days: int
) -> None:
    """A shorter or longer demo bills its pools for exactly its days, at the same cost a day:
    nothing billed for days it does not have (today, tomorrow), none of its days unbilled."""
    start = date(2026, 12, 29)  # across a year end
    write_demo_seeds(SEED_DIR, tmp_path, start, days)
    reference = {r["resource_id"]: r for r in read_csv(SEED_DIR / "shared_resource_costs.csv")}
    for row in read_csv(tmp_path / "shared_resource_costs.csv"):
        assert (row["period_start"], row["period_end"]) == (
            str(start),
            str(start + timedelta(days=days)),
        )
        daily = Decimal(reference[row["resource_id"]]["cost"]) / REFERENCE_DAYS
        assert abs(Decimal(row["cost"]) - daily * days) <= Decimal("0.005")
    months = {r["month_start"] for r in read_csv(tmp_path / "cost_budgets.csv")}
    assert months == ({"2026-12-01"} if days <= 3 else {"2026-12-01", "2027-01-01"})


def test_a_seed_row_cut_short_is_moved_as_it_is(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "team_costs.csv").write_text(
        "team_id,period_start,period_end,team_cost\npayments,2026-01-01\n", encoding="utf-8"
    )
    write_demo_seeds(reference, tmp_path / "out", REFERENCE_START, 7)
    assert read_csv(tmp_path / "out" / "team_costs.csv") == [
        {"team_id": "payments", "period_start": "2026-01-01", "period_end": "", "team_cost": ""}
    ]


def test_generate_by_default_ends_yesterday_and_writes_the_seeds_for_those_days(
    tmp_path: Path,
) -> None:
    out = tmp_path / "demo"
    argv = ["generate", "--out", str(out), "--days", "2", "--requests-per-day", "3"]
    before = datetime.now(UTC).date()
    assert main([*argv, "--reference-seeds", str(SEED_DIR)]) == 0
    # The yesterday of when the command ran (the test may cross midnight UTC).
    for today in {before, datetime.now(UTC).date()}:
        first = today - timedelta(days=2)
        days = sorted(p.name for p in (out / "otlp").glob("*.jsonl"))
        if days == [f"traces-{first}.jsonl", f"traces-{first + timedelta(days=1)}.jsonl"]:
            break
    else:
        raise AssertionError(f"the demo does not end yesterday: {days}")
    shared = read_csv(out / "seeds" / "shared_resource_costs.csv")
    assert {r["period_start"] for r in shared} == {str(first)}


def test_generate_never_writes_over_the_reference_seeds(tmp_path: Path, capsys) -> None:
    reference = tmp_path / "seeds"
    shutil.copytree(SEED_DIR, reference)
    argv = ["generate", "--out", str(tmp_path), "--days", "1", "--requests-per-day", "1"]
    assert main([*argv, "--reference-seeds", str(reference)]) == 2
    assert "would write the demo's seeds over" in capsys.readouterr().err
    for path in SEED_DIR.glob("*.csv"):
        assert (reference / path.name).read_bytes() == path.read_bytes()


def test_generate_without_the_reference_seeds_says_where_it_looked(tmp_path: Path, capsys) -> None:
    argv = ["generate", "--out", str(tmp_path / "demo"), "--days", "1"]
    assert main([*argv, "--reference-seeds", str(tmp_path / "nowhere")]) == 2
    assert "no seeds in" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()
