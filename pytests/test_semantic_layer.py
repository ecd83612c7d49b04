"""The semantic layer answers metric questions with a real `mf query` on the DuckDB file, and
its numbers equal the mart's own sums."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_ROOT, DemoBuild, invoke_dbt

METRICS = "cost,revenue,requests,margin,gross_margin,cost_per_request,unattributed_share,idle_share"


def _mf_executable() -> str:
    local = PROJECT_ROOT / ".venv" / "bin" / "mf"
    if local.exists():
        return str(local)
    found = shutil.which("mf")
    if found is None:
        pytest.skip("MetricFlow (dbt-metricflow) is not installed")
    return found


def test_mf_query_matches_the_mart(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # For dbt here and MetricFlow's process below.
    monkeypatch.setenv("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    monkeypatch.setenv("FEATURE_COST_DUCKDB", str(demo_build.duckdb_path))
    monkeypatch.setenv("FEATURE_COST_TARGET", "dev")
    # MetricFlow reads the semantic manifest from the project's own target folder.
    invoke_dbt(["parse", "--project-dir", str(PROJECT_ROOT), "--quiet"])
    out = tmp_path / "metrics.csv"
    query = subprocess.run(
        [
            _mf_executable(),
            "query",
            "--metrics",
            METRICS,
            "--group-by",
            "feature_cost__feature_id",
            "--csv",
            str(out),
            "--decimals",
            "12",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert query.returncode == 0 and out.exists(), query.stdout[-2000:] + query.stderr[-2000:]
    with out.open(newline="") as handle:
        answered = {row["feature_cost__feature_id"]: row for row in csv.DictReader(handle)}

    with duckdb.connect(str(demo_build.duckdb_path), read_only=True) as con:
        expected = con.execute(
            """
            select feature_id, sum(total_cost), sum(revenue), sum(request_count),
                (sum(revenue) - sum(total_cost)) / nullif(sum(total_cost), 0),
                (sum(revenue) - sum(total_cost)) / nullif(sum(revenue), 0),
                sum(total_cost) / nullif(sum(request_count), 0),
                sum(case when feature_id = '__unattributed__' then total_cost else 0 end)
                    / nullif(sum(total_cost), 0),
                sum(case when feature_id = '__idle__' then total_cost else 0 end)
                    / nullif(sum(total_cost), 0)
            from feature_cost_marts.feature_cost_margin group by feature_id
            """
        ).fetchall()
    assert set(answered) == {row[0] for row in expected}
    assert any(row[-1] for row in expected), "the demo has idle capacity"
    for (
        feature,
        cost,
        revenue,
        requests,
        margin,
        gross,
        per_request,
        unattributed,
        idle,
    ) in expected:
        row = answered[feature]
        for name, value in (
            ("cost", cost),
            ("revenue", revenue),
            ("requests", requests),
            ("margin", margin),
            ("gross_margin", gross),
            ("cost_per_request", per_request),
            ("unattributed_share", unattributed),
            ("idle_share", idle),
        ):
            if value is None:
                assert row[name] == "", (feature, name, row[name])
            else:
                assert math.isclose(float(row[name]), value, rel_tol=1e-9, abs_tol=1e-9), (
                    feature,
                    name,
                    row[name],
                    value,
                )
