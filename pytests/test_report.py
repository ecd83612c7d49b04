"""The static HTML report: renderers on small data, and the real page drawn by Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DemoBuild
from feature_cost.report import Bar, bar_chart, line_chart, sig, write_report

CHARTS = ("cost-vs-revenue", "margin-trend", "top-tenants", "unattributed-idle-share")


def test_three_significant_figures() -> None:
    assert [sig(v) for v in (1234.5, 0.0123456, 98.76, 0.0, None)] == [
        "1,230",
        "0.0123",
        "98.8",
        "0",
        "-",
    ]


def test_one_bar_per_feature_and_series_with_whiskers() -> None:
    svg = bar_chart(
        "c",
        "t",
        [("cost", [Bar("a", 2.0, 1.5, 2.5), Bar("b", 1.0)]), ("revenue", [Bar("a", 3.0)])],
    )
    assert svg.count('class="mark"') == 3
    assert svg.count('class="whisker"') == 1


def test_a_missing_value_is_a_gap_not_a_zero() -> None:
    svg = line_chart("m", "t", ["2026-01-01", "2026-01-02", "2026-01-03"], {"a": [1.0, None, 2.0]})
    assert svg.count("<polyline") == 2  # two one-point segments, no line through the gap


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium not installed")
    return found


def _headless(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_report_draws_every_chart_in_a_browser(demo_build: DemoBuild, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert write_report(demo_build.duckdb_path, page) == 0
    dumped = _headless(tmp_path, "--virtual-time-budget=2000", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    for chart in CHARTS:
        match = re.search(rf'<svg data-chart="{chart}".*?</svg>', dom, re.S)
        assert match, f"chart {chart} is not in the rendered page"
        assert match.group(0).count('class="mark"') > 0, f"chart {chart} drew nothing"
    assert "<h2>Alerts</h2>" in dom
    shot = tmp_path / "report.png"
    _headless(tmp_path, "--window-size=1000,2400", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


def test_a_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert write_report(tmp_path / "nope.duckdb", tmp_path / "r.html") == 1
    assert "no DuckDB file" in capsys.readouterr().err
