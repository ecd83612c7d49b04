"""``feature-cost check`` names what the seeds lack, from a real build that stopped at the
price tests and from hand-made span-days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import DemoBuild, run_dbt
from feature_cost.check import EXIT_COMPLETE, EXIT_GAPS, EXIT_NOT_BUILT, day_runs, run_check


def test_consecutive_days_are_one_run() -> None:
    days = [
        (date(2026, 1, 7), 1),
        (date(2026, 1, 5), 2),
        (date(2026, 1, 6), 3),
        (date(2026, 1, 9), 4),
    ]
    assert day_runs(days) == [
        (date(2026, 1, 5), date(2026, 1, 7), 6),
        (date(2026, 1, 9), date(2026, 1, 9), 4),
    ]


def test_each_gap_names_its_seed_and_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "built.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table main.int_span_days_priced as select * from (values"
            " ('standard', 'us-east1', 'n2', date '2026-10-01', false, 'gpt-4o', false),"
            " ('standard', 'us-east1', 'n2', date '2026-10-02', false, 'gpt-4o', false),"
            " ('standard', 'us-east1', 'n2', date '2026-10-03', false, null, true),"
            " ('standard', null, '*', date '2026-10-05', false, null, true),"
            " ('standard', 'us-east1', 'n2', date '2026-10-04', true, 'gpt-4o', true))"
            " as t(rate_card_id, cloud_region, instance_family, date_day,"
            " rate_card_row_found, gen_ai_request_model, llm_price_found)"
        )
    assert run_check(path) == EXIT_GAPS
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "3 gap(s) in the seeds:"
    assert lines[1].startswith(
        "  rate card `standard` has no row for region `__unknown__`, instance family `*`"
        " on 2026-10-05 (1): add a row for `standard` to rate_cards.csv of your seeds"
    )
    assert lines[2].startswith(
        "  rate card `standard` has no row for region `us-east1`, instance family `n2`"
        " on 2026-10-01..2026-10-03 (3)"
    )
    assert lines[3] == (
        "  LLM model `gpt-4o` has no price on 2026-10-01..2026-10-02 (2): add a row for it to"
        " llm_model_prices.csv of your seeds in force on those days [2 calls]"
    )


def test_a_file_without_a_build_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_check(tmp_path / "missing.duckdb") == EXIT_NOT_BUILT
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert run_check(empty) == EXIT_NOT_BUILT
    assert "has no main.int_span_days_priced" in capsys.readouterr().err


@pytest.mark.slow
def test_a_build_that_stops_at_the_price_tests_is_explained(
    demo_build: DemoBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Work no feature claims is priced by the var default_rate_card: a card the seeds do not
    have stops the build at assert_rate_cards_cover_usage; check names the card and days."""
    assert run_check(demo_build.duckdb_path) == EXIT_COMPLETE
    capsys.readouterr()
    db = tmp_path / "feature_cost.duckdb"
    with pytest.raises(AssertionError) as failed:
        run_dbt(
            # What the price test needs, and the test: everything after it would be skipped.
            ["build", "--select", "+assert_rate_cards_cover_usage"],
            duckdb_path=db,
            vars={**demo_build.vars, "default_rate_card": "no-such-card"},
            target_dir=tmp_path,
        )
    assert "assert_rate_cards_cover_usage" in str(failed.value)
    assert run_check(db) == EXIT_GAPS
    out = capsys.readouterr().out
    assert "rate card `no-such-card` has no row for region" in out
    assert "on 2026-01-05..2026-01-07" in out
