"""OTLP files are decoded once: a build reads only files that are new or changed, and the
result equals a full refresh; a build with nothing new changes nothing."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD_WITHOUT_TESTS, DEMO_CONFIG, dbt_vars_for, run_dbt
from feature_cost.demo import generate

# Each test builds its own data set with dbt: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

MART = (
    "select date_day, feature_id, tenant_id, request_count, total_cost, reconciled_cost"
    " from feature_cost_marts.feature_cost_margin order by 1, 2, 3"
)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _same(left: list[tuple], right: list[tuple]) -> bool:
    return len(left) == len(right) and all(
        all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) if isinstance(a, float) else a == b
            for a, b in zip(x, y, strict=True)
        )
        for x, y in zip(left, right, strict=True)
    )


def test_new_and_grown_files_match_a_full_refresh(tmp_path: Path) -> None:
    source = tmp_path / "generated"
    generate(replace(DEMO_CONFIG, days=3), source)
    data = tmp_path / "data"
    shutil.copytree(source, data)
    otlp = data / "otlp"
    files = sorted(otlp.glob("*.jsonl"))
    day3 = files[-1].read_text(encoding="utf-8").splitlines(keepends=True)
    files[-1].unlink()  # day 3 arrives later
    day2_lines = files[1].read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(day2_lines) // 2
    files[1].write_text("".join(day2_lines[:half]), encoding="utf-8")  # day 2 still growing

    dbt_vars = dbt_vars_for(data)
    # Both files have one name (DuckDB names the database after it): one parse serves both.
    incremental_db = tmp_path / "incremental" / "feature_cost.duckdb"
    # Data tests run on the incremental build that appends (the one that could duplicate);
    # the other builds only feed the comparisons.
    run_dbt(
        BUILD_WITHOUT_TESTS, duckdb_path=incremental_db, vars=dbt_vars, target_dir=tmp_path / "a"
    )
    first = _rows(incremental_db, "select count(*) from main.base_otel__spans")

    # The Collector appends to the current file and rotates to a new one.
    with files[1].open("a", encoding="utf-8") as handle:
        handle.write("".join(day2_lines[half:]))
    files[-1].write_text("".join(day3), encoding="utf-8")
    second = run_dbt(
        ["build"], duckdb_path=incremental_db, vars=dbt_vars, target_dir=tmp_path / "a"
    )
    assert "incremental model main.base_otel__spans" in second.stdout
    assert _rows(incremental_db, "select count(*) from main.base_otel__spans") > first

    full_db = tmp_path / "full" / "feature_cost.duckdb"
    run_dbt(BUILD_WITHOUT_TESTS, duckdb_path=full_db, vars=dbt_vars, target_dir=tmp_path / "b")
    for query in (
        MART,
        "select * exclude (read_at) from main.base_otel__spans order by all",
        "select * from feature_cost_marts.span_accounting order by all",
    ):
        assert _same(_rows(incremental_db, query), _rows(full_db, query)), query

    # Nothing new: the decoded tables stay as they were and the mart equals the last one
    # (to float rounding: parallel sums of doubles add in no fixed order).
    before = _rows(incremental_db, MART)
    spans_before = _rows(incremental_db, "select count(*) from main.base_otel__spans")
    run_dbt(
        BUILD_WITHOUT_TESTS, duckdb_path=incremental_db, vars=dbt_vars, target_dir=tmp_path / "a"
    )
    assert _same(_rows(incremental_db, MART), before)
    assert _rows(incremental_db, "select count(*) from main.base_otel__spans") == spans_before
