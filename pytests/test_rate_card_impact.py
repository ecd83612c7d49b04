"""Rate-card changes: the impact of a proposal is shown before it is applied, a future price
changes no past day, and an invalid proposal is rejected with the test that names it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, DemoBuild
from feature_cost import rate_card_impact

RATE_CARDS = PROJECT_ROOT / "seeds" / "rate_cards.csv"
OPEN_STANDARD_US = (
    "standard,us-east-1,*,2026-01-08,,0.0000000054,0.0000000016,0.0000002,0.000004,USD"
)


def _propose(tmp_path: Path, replace: str, extra: list[str]) -> Path:
    text = RATE_CARDS.read_text(encoding="utf-8")
    assert OPEN_STANDARD_US in text, "the test expects the shipped standard us-east-1 rows"
    lines = [line for line in text.splitlines() if line != OPEN_STANDARD_US]
    proposed = tmp_path / "rate_cards.csv"
    proposed.write_text("\n".join([*lines, replace, *extra]) + "\n", encoding="utf-8")
    return proposed


@pytest.mark.slow
def test_a_price_change_from_a_date_changes_only_that_date_on(
    demo_build: DemoBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Demo days are 5-7 January; standard us-east-1 gets dearer from the 7th: the 5th and the
    6th keep their cost, the 7th changes for the features priced by that card."""
    proposed = _propose(
        tmp_path,
        "standard,us-east-1,*,2025-01-01,2026-01-07,0.000000006,0.0000000016,0.0000002,0.000004,USD",
        ["standard,us-east-1,*,2026-01-07,,0.0000000072,0.0000000016,0.0000002,0.000004,USD"],
    )
    # The shipped card has a row from 2025-01-01 to 2026-01-08: replace it too.
    text = proposed.read_text(encoding="utf-8").replace(
        "standard,us-east-1,*,2025-01-01,2026-01-08,0.000000006,0.0000000016,0.0000002,0.000004,USD\n",
        "",
    )
    proposed.write_text(text, encoding="utf-8")

    current = demo_build.duckdb_path
    dbt_args = ["--vars", json.dumps(demo_build.vars)]
    code = rate_card_impact.run(proposed, current, PROJECT_ROOT, dbt_args)
    output = capsys.readouterr().out
    assert code == 0, output

    changes = [line.split()[0] for line in output.splitlines() if line.startswith("2026-")]
    assert changes, output
    assert set(changes) == {"2026-01-07"}
    assert "smart-summary" in output  # priced by the standard card in us-east-1
    assert "checkout-v2" not in output.split("features (")[1]  # high_compute: untouched
    assert current.exists()


@pytest.mark.slow
def test_an_invalid_proposal_is_rejected_with_the_reason(
    demo_build: DemoBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two rows of one card in force on the same day: the seed test fails, nothing changes."""
    proposed = _propose(
        tmp_path,
        OPEN_STANDARD_US,
        ["standard,us-east-1,*,2026-01-06,,0.00000002,0.0000000016,0.0000002,0.000004,USD"],
    )
    before = demo_build.duckdb_path.stat().st_mtime_ns
    dbt_args = ["--vars", json.dumps(demo_build.vars)]
    code = rate_card_impact.run(proposed, demo_build.duckdb_path, PROJECT_ROOT, dbt_args)
    captured = capsys.readouterr()
    assert code == 1
    assert "rate_card_periods_do_not_overlap" in captured.err
    assert demo_build.duckdb_path.stat().st_mtime_ns == before
