"""Scheduled builds and BI readers: a reader in another process holds the published DuckDB
file open while a new build is published; a failed or stale run leaves it as it was; the
summary prints ids from telemetry without letting them drive the terminal.

The helpers here (``publish_command``, ``publish_env``, ``run_publish``, ``mart_rows``,
``same_rows``) are shared with ``test_publish_faults.py``."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from conftest import DEMO_CONFIG, PROJECT_ROOT, dbt_vars_for
from feature_cost.demo import generate
from feature_cost.formatting import printable
from feature_cost.publish import EXIT_BUILD_FAILED, EXIT_PUBLISHED, EXIT_STALE
from feature_cost.summary import print_summary

MART_NAMES = frozenset(path.stem for path in (PROJECT_ROOT / "models" / "marts").rglob("*.sql"))
Rows = dict[str, list[tuple]]

READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = "select count(*), sum(total_cost) from feature_cost_marts.feature_cost_margin"
    print(repr(con.execute(query).fetchone()), flush=True)
    sys.stdin.readline()  # hold the file open until told to read again
    print(repr(con.execute(query).fetchone()), flush=True)
    """
)


def publish_command(published: Path, dbt_vars: dict[str, str], *extra: str) -> list[str]:
    """``feature-cost publish`` as a scheduler would run it."""
    return [
        sys.executable,
        "-m",
        "feature_cost.cli",
        "publish",
        "--duckdb",
        str(published),
        "--vars",
        json.dumps(dbt_vars),
        *extra,
    ]


def publish_env(dbt_dir: Path) -> dict[str, str]:
    """The environment of a publish whose dbt writes target/ and logs/ under ``dbt_dir``."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_ROOT),
        "FEATURE_COST_TARGET": "dev",
        "DBT_TARGET_PATH": str(dbt_dir / "target"),
        "DBT_LOG_PATH": str(dbt_dir / "logs"),
        "DBT_LOG_LEVEL_FILE": "none",  # no debug log file: the tests read stdout and stderr
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    }


def run_publish(
    published: Path, dbt_vars: dict[str, str], *extra: str, dbt_dir: Path | None = None
) -> subprocess.CompletedProcess:
    """Run one publish to the end; dbt's target/ goes to ``dbt_dir`` (default: a new one)."""
    if dbt_dir is None:
        dbt_dir = Path(tempfile.mkdtemp(prefix="dbt-", dir=published.parent.parent))
    return subprocess.run(
        publish_command(published, dbt_vars, *extra),
        cwd=PROJECT_ROOT,
        env=publish_env(dbt_dir),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def mart_rows(path: Path) -> Rows:
    """Every mart table of a DuckDB file, its rows sorted; opened read-only, as BI does."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = sorted(
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'feature_cost_marts'"
            ).fetchall()
            if name in MART_NAMES
        )
        assert "feature_cost_margin" in names, names
        return {
            name: sorted(
                con.execute(f"select * from feature_cost_marts.{name}").fetchall(), key=_sort_key
            )
            for name in names
        }


def _sort_key(row: tuple) -> tuple:
    return tuple(
        (0, float(f"{v:.6g}"), "")
        if isinstance(v, float)
        else (1, 0.0, "" if v is None else str(v))
        for v in row
    )


def same_rows(left: Rows, right: Rows) -> bool:
    """The same tables with the same rows (floats equal to 1e-9, relative)."""
    if left.keys() != right.keys():
        return False
    for name in left:
        if len(left[name]) != len(right[name]):
            return False
        for a_row, b_row in zip(left[name], right[name], strict=True):
            for a, b in zip(a_row, b_row, strict=True):
                if isinstance(a, float) and isinstance(b, float):
                    if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
                        return False
                elif a != b:
                    return False
    return True


def _snapshot(path: Path) -> tuple:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select count(*), sum(total_cost) from feature_cost_marts.feature_cost_margin"
        ).fetchone()


@pytest.mark.slow
def test_publish_while_a_reader_holds_the_file(tmp_path: Path) -> None:
    """The build never writes the file a reader holds: it publishes by atomic rename.
    (Freshness is left out here; the next test has a stale feed.)"""
    generated = tmp_path / "generated"
    generate(replace(DEMO_CONFIG, days=3), generated)
    data = tmp_path / "data"
    shutil.copytree(generated, data)
    last_day = sorted((data / "otlp").glob("*.jsonl"))[-1]
    last_day.unlink()  # it arrives after the first publish
    published = tmp_path / "published" / "feature_cost.duckdb"
    dbt_dir = tmp_path / "dbt"  # one, as on a schedule: the second run parses partially

    first = run_publish(published, dbt_vars_for(data), "--no-freshness", dbt_dir=dbt_dir)
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

        shutil.copy2(generated / "otlp" / last_day.name, last_day)
        second = run_publish(published, dbt_vars_for(data), "--no-freshness", dbt_dir=dbt_dir)
        assert second.returncode == EXIT_PUBLISHED, second.stdout[-3000:] + second.stderr
        assert "incremental build" in second.stdout

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


@pytest.mark.slow
def test_failed_or_stale_runs_leave_the_published_file_alone(tmp_path: Path) -> None:
    """Exit 1 when the build fails, 2 when telemetry is stale; the published file is intact."""
    data = tmp_path / "data"
    generate(replace(DEMO_CONFIG, days=1, clickhouse_parquet=True), data)
    published = tmp_path / "feature_cost.duckdb"
    good = run_publish(published, dbt_vars_for(data), "--no-freshness")
    assert good.returncode == EXIT_PUBLISHED, good.stdout[-3000:] + good.stderr
    before = (published.stat().st_mtime_ns, _snapshot(published))

    broken_rates = {**dbt_vars_for(data), "default_rate_card": "no-such-card"}
    failed = run_publish(published, broken_rates, "--no-freshness")
    assert failed.returncode == EXIT_BUILD_FAILED
    assert "left as it was" in failed.stderr

    # The demo's spans are from January 2026: as a live feed they are long stale.
    stale_vars = {
        **dbt_vars_for(data),
        "span_source": "clickhouse_parquet",
        "clickhouse_spans_path": str(data / "clickhouse" / "*.parquet"),
    }
    stale = run_publish(published, stale_vars)
    assert stale.returncode == EXIT_STALE
    assert "stale" in stale.stderr

    assert (published.stat().st_mtime_ns, _snapshot(published)) == before
    assert not list(published.parent.glob(".*building*"))


NEW_PROCESS_READER = textwrap.dedent(
    """
    import sys, duckdb
    with duckdb.connect(sys.argv[1], read_only=True) as con:
        print(con.execute("select version from main.marts").fetchone()[0])
    """
)


def test_a_reader_sees_a_publish_from_a_new_process_or_after_closing_its_connections(
    tmp_path: Path,
) -> None:
    """What the README promises BI tools: DuckDB keeps one database instance per path in a
    process, so a connection opened while another is open still reads the replaced file."""
    published = tmp_path / "feature_cost.duckdb"

    def write(path: Path, version: int) -> None:
        with duckdb.connect(str(path)) as con:
            con.execute(f"create table main.marts as select {version} as version")

    write(published, 1)
    first = duckdb.connect(str(published), read_only=True)
    try:
        write(tmp_path / "staging.duckdb", 2)
        os.replace(tmp_path / "staging.duckdb", published)
        with duckdb.connect(str(published), read_only=True) as second:
            assert second.execute("select version from main.marts").fetchone() == (1,)
        elsewhere = subprocess.run(
            [sys.executable, "-c", NEW_PROCESS_READER, str(published)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert elsewhere.stdout.strip() == "2"
    finally:
        first.close()
    with duckdb.connect(str(published), read_only=True) as after:
        assert after.execute("select version from main.marts").fetchone() == (2,)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("checkout-v2", "checkout-v2"),
        ("caf\u00e9 \u4e2d\u6587", "caf\u00e9 \u4e2d\u6587"),
        ("\x1b[31;1mchat\x1b[0m", "chat"),  # colours
        ("\x1b[2J\x1b[Hsearch", "search"),  # clear the screen, cursor home
        ("\x1b]0;pwned\x07title", "title"),  # set the window title (BEL-terminated)
        ("\x1b]8;;https://x.test\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink (ST)
        ("\x9b31mc1", "c1"),  # 8-bit CSI
        ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),  # one line stays one line
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
        ("x\u2028y", "x\\u2028y"),  # line separator
        ("\x1b", ""),
        (None, ""),
    ],
)
def test_printable_strips_escape_sequences_and_escapes_controls(
    raw: str | None, shown: str
) -> None:
    assert printable(raw) == shown


def test_printable_output_has_no_control_characters() -> None:
    """Every code point 0-0x3000 and some formatting ones: nothing a terminal acts on remains."""
    import unicodedata

    hostile = "".join(chr(c) for c in range(0x3000)) + "\u200b\u200e\u2066\ufeff"
    shown = printable(hostile)
    assert not [c for c in shown if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"}]


def test_summary_prints_hostile_ids_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ids and alert types with escape sequences and newlines, read from a hand-made mart."""
    path = tmp_path / "feature_cost.duckdb"
    feature = "\x1b[2J\x1b]0;owned\x07evil\nfeature"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema feature_cost_marts")
        con.execute(
            """
            create table feature_cost_marts.feature_cost_margin as
            select
                date '2026-01-05' as date_day, 'grp\x1b[5m' as feature_group,
                ? as feature_id, 'tenant\x1b[31m' as tenant_id, 3 as request_count,
                1.0 as direct_cost, 0.5 as shared_cost, 0.25 as amortized_cost,
                1.75 as total_cost, 1.5 as cost_low, 2.0 as cost_high, 4.0 as revenue,
                'US\x1b[0mD' as currency
            """,
            [feature],
        )
        con.execute(
            """
            create table feature_cost_marts.cost_alerts as
            select date '2026-01-05' as date_day, ? as feature_id, '__all__' as tenant_id,
                'spike\r\x9b2K' as alert_type, 0.6 as cost_per_request, 0.1 as limit_value,
                3 as request_count, 1.75 as total_cost, null as forecast_cost
            """,
            [feature],
        )
    assert print_summary(path) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out and "\r" not in out
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("evil\\x0afeature")], out
    alert = [line for line in lines if line.startswith("  2026-01-05 evil\\x0afeature: ")]
    assert alert and "spike\\x0d, cost per request 0.600 > 0.100" in alert[0], out
    assert "currency USD" in out


def test_summary_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """``feature-cost summary | head``: when the reader closes the pipe before the summary is
    written, the command ends without a traceback."""
    path = tmp_path / "feature_cost.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema feature_cost_marts")
        con.execute(
            """
            create table feature_cost_marts.feature_cost_margin as
            select
                date '2026-01-05' as date_day, 'g' as feature_group, 'f' as feature_id,
                't' as tenant_id, 3 as request_count, 1.0 as direct_cost, 0.5 as shared_cost,
                0.25 as amortized_cost, 1.75 as total_cost, 1.5 as cost_low, 2.0 as cost_high,
                4.0 as revenue, 'USD' as currency
            """
        )
        con.execute(
            "create table feature_cost_marts.cost_alerts as select date '2026-01-05' as date_day,"
            " 'f' as feature_id, '__all__' as tenant_id, 'spike' as alert_type,"
            " 0.6 as cost_per_request, 0.1 as limit_value, 3 as request_count,"
            " 1.75 as total_cost, null as forecast_cost"
        )
    reader_r, reader_w = os.pipe()
    os.close(reader_r)  # the reader is gone before the first line is written
    result = subprocess.run(
        [sys.executable, "-m", "feature_cost.cli", "summary", "--duckdb", str(path)],
        stdout=reader_w,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    os.close(reader_w)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 141


def test_make_clean_keeps_the_published_file(tmp_path: Path) -> None:
    """``make clean`` removes the build output, the demo data and the build file, never the
    published file BI tools read (nor the build file kept beside it for the next publish)."""
    shutil.copy(PROJECT_ROOT / "Makefile", tmp_path / "Makefile")
    made = {
        "target/manifest.json": True,
        "data/demo/otlp/traces.jsonl": True,
        "data/feature_cost.duckdb": True,
        "data/published/feature_cost.duckdb": False,
        "data/published/.feature_cost.build.duckdb": False,
    }
    for name in made:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEATURE_COST_", "MAKE"))}
    subprocess.run(["make", "clean"], cwd=tmp_path, env=env, check=True, capture_output=True)
    for name, removed in made.items():
        assert (tmp_path / name).exists() is not removed, name
