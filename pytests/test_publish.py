"""Publishing for BI readers, without dbt: a reader in another process sees a replaced file
when it opens a new connection; the summary prints ids from telemetry without letting them
drive the terminal; ``make clean`` keeps the published file. (Publishes that run dbt, of a
small probe project and of the project itself: ``test_publish_faults.py``.)

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
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_ROOT
from feature_cost.formatting import printable
from feature_cost.summary import print_summary

MART_NAMES = frozenset(path.stem for path in (PROJECT_ROOT / "models" / "marts").rglob("*.sql"))
Rows = dict[str, list[tuple]]


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
    published: Path,
    dbt_vars: dict[str, str],
    *extra: str,
    dbt_dir: Path | None = None,
    project: Path = PROJECT_ROOT,
) -> subprocess.CompletedProcess:
    """Run one publish of ``project`` (the folder it runs in) to the end; dbt's target/ goes
    to ``dbt_dir`` (default: a new one)."""
    if dbt_dir is None:
        dbt_dir = Path(tempfile.mkdtemp(prefix="dbt-", dir=published.parent.parent))
    return subprocess.run(
        publish_command(published, dbt_vars, *extra),
        cwd=project,
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
