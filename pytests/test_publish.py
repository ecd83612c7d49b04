"""Scheduled builds and BI readers: a reader in another process holds the published DuckDB
file open while a new build is published; a failed or stale run leaves it as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from conftest import DEMO_CONFIG, PROJECT_ROOT, dbt_vars_for
from feature_cost.demo import generate
from feature_cost.publish import EXIT_BUILD_FAILED, EXIT_PUBLISHED, EXIT_STALE

READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = "select count(*), sum(total_cost) from main.feature_cost_margin"
    print(repr(con.execute(query).fetchone()), flush=True)
    sys.stdin.readline()  # hold the file open until told to read again
    print(repr(con.execute(query).fetchone()), flush=True)
    """
)


def _publish(published: Path, dbt_vars: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_ROOT), "FEATURE_COST_TARGET": "dev"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "feature_cost.cli",
            "publish",
            "--duckdb",
            str(published),
            "--vars",
            json.dumps(dbt_vars),
            *extra,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _snapshot(path: Path) -> tuple:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select count(*), sum(total_cost) from main.feature_cost_margin"
        ).fetchone()


def test_publish_while_a_reader_holds_the_file(tmp_path: Path) -> None:
    """The build never writes the file a reader holds: it publishes by atomic rename."""
    week = tmp_path / "week"
    generate(replace(DEMO_CONFIG, days=2), week)
    day = tmp_path / "day"
    generate(replace(DEMO_CONFIG, days=1, seed=5), day)
    published = tmp_path / "published" / "feature_cost.duckdb"

    first = _publish(published, dbt_vars_for(week))
    assert first.returncode == EXIT_PUBLISHED, first.stdout[-3000:] + first.stderr
    before = _snapshot(published)

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        seen_first = reader.stdout.readline().strip()
        assert seen_first == repr(before)

        second = _publish(published, dbt_vars_for(day))
        assert second.returncode == EXIT_PUBLISHED, second.stdout[-3000:] + second.stderr

        reader.stdin.write("again\n")
        reader.stdin.flush()
        seen_again = reader.stdout.readline().strip()
        # The open reader still sees the complete old marts, not a half-written mix.
        assert seen_again == repr(before)
    finally:
        reader.kill()
        reader.wait()

    after = _snapshot(published)
    assert after != before
    assert not list(published.parent.glob(".*building*")), "a staging file was left behind"


def test_failed_or_stale_runs_leave_the_published_file_alone(tmp_path: Path) -> None:
    """Exit 1 when the build fails, 2 when telemetry is stale; the published file is intact."""
    data = tmp_path / "data"
    generate(replace(DEMO_CONFIG, days=1, clickhouse_parquet=True), data)
    published = tmp_path / "feature_cost.duckdb"
    good = _publish(published, dbt_vars_for(data), "--no-freshness")
    assert good.returncode == EXIT_PUBLISHED, good.stdout[-3000:] + good.stderr
    before = (published.stat().st_mtime_ns, _snapshot(published))

    broken_rates = {**dbt_vars_for(data), "default_rate_card": "no-such-card"}
    failed = _publish(published, broken_rates, "--no-freshness")
    assert failed.returncode == EXIT_BUILD_FAILED
    assert "left as it was" in failed.stderr

    # The demo's spans are from January 2026: as a live feed they are long stale.
    stale_vars = {
        **dbt_vars_for(data),
        "span_source": "clickhouse_parquet",
        "clickhouse_spans_path": str(data / "clickhouse" / "*.parquet"),
    }
    stale = _publish(published, stale_vars)
    assert stale.returncode == EXIT_STALE
    assert "stale" in stale.stderr

    assert (published.stat().st_mtime_ns, _snapshot(published)) == before
    assert not list(published.parent.glob(".*building*"))
