"""The static HTML report: the renderers on small hand-made data, and the whole page from a tiny
hand-built DuckDB file through the command line, drawn by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from feature_cost.formatting import percent, sig
from feature_cost.report import (
    Bar,
    DayAmounts,
    DayReserved,
    FeatureTotals,
    Headline,
    ReportData,
    Table,
    bar_chart,
    line_chart,
    load_report_data,
    margin_series,
    render_html,
    reserved_shares,
    stacked_column_chart,
    table,
    write_report,
)
from feature_cost.summary import print_summary

CHARTS = ("cost-vs-revenue", "margin-trend", "top-tenants", "unattributed-idle-share")


class _Marks(HTMLParser):
    """Counts elements with the class ``mark`` inside each ``svg[data-chart]``."""

    def __init__(self) -> None:
        super().__init__()
        self.chart: str | None = None
        self.marks: Counter[str] = Counter()
        self.charts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg" and found.get("data-chart"):
            self.chart = found["data-chart"]
            self.charts.append(self.chart)
        elif self.chart and "mark" in (found.get("class") or "").split():
            self.marks[self.chart] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.chart = None


def _marks(page: str) -> _Marks:
    parser = _Marks()
    parser.feed(page)
    return parser


# ----------------------------------------------------------------------------- pure renderers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "1,230"),
        (0.0123456, "0.0123"),
        (98.76, "98.8"),
        (0.1, "0.100"),
        (999.6, "1,000"),
        (0.00099996, "0.00100"),
        (-0.0906349, "-0.0906"),
        (1_234_567.0, "1,230,000"),
        (0.0, "0"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_numbers_print_in_three_significant_figures(value: float | None, text: str) -> None:
    assert sig(value) == text


def test_margins_print_as_signed_percentages() -> None:
    assert [percent(v) for v in (-0.0906349, 2.6341, 0.0, None)] == ["-9.06%", "+263%", "0%", "-"]


def test_one_bar_per_feature_and_series_and_a_whisker_per_range() -> None:
    features = ["search", "export", "checkout"]
    svg = bar_chart(
        "c",
        "cost and revenue",
        [
            ("cost", [Bar(f, 2.0 + i, 1.5 + i, 2.5 + i) for i, f in enumerate(features)]),
            ("revenue", [Bar(f, 3.0) for f in features]),
        ],
    )
    assert svg.count('class="mark bar"') == 2 * len(features)
    assert svg.count('class="mark whisker"') == len(features)
    assert "<title>cost and revenue</title>" in svg


def test_an_empty_chart_draws_no_marks_and_says_so() -> None:
    svg = bar_chart("c", "t", [("cost", [])])
    assert 'class="mark' not in svg
    assert "no data" in svg


def test_margin_comes_from_sums_and_is_null_without_cost() -> None:
    rows = [
        DayAmounts("2026-01-01", "search", 2.0, 3.0),
        DayAmounts("2026-01-02", "search", 0.0, 1.0),  # no cost: no margin
        DayAmounts("2026-01-03", "search", 4.0, None),  # no revenue: -100%
        DayAmounts("2026-01-01", "export", 1.0, 1.0),  # no row on the other days: gaps
        DayAmounts("2026-01-01", "__unattributed__", 5.0, 0.0),  # reserved: not a line
    ]
    days, lines = margin_series(rows)
    assert days == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert lines == {"export": [0.0, None, None], "search": [0.5, None, -1.0]}


def test_a_null_margin_is_a_gap_not_a_zero() -> None:
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    svg = line_chart("m", "t", days, {"a": [0.5, None, 0.2, 0.1]})
    assert svg.count('class="mark point"') == 3
    lines = re.findall(r'<polyline class="mark line"[^>]*points="([^"]*)"', svg)
    assert len(lines) == 1  # the first point stands alone: nothing is drawn across the gap
    xs = [float(p.split(",")[0]) for p in lines[0].split()]
    point_xs = sorted(float(x) for x in re.findall(r'<circle[^>]*cx="([^"]*)"', svg))
    assert xs == point_xs[1:]


def test_reserved_shares_stack_per_day() -> None:
    days = [
        DayReserved("2026-01-01", 10.0, {"__unattributed__": 1.0, "__flag_off__": 2.0}),
        DayReserved("2026-01-02", 0.0, {}),
    ]
    shares = reserved_shares(days)
    assert shares == {"unattributed": [0.1, 0.0], "idle": [0.0, 0.0], "flag off": [0.2, 0.0]}
    svg = stacked_column_chart("s", "t", [d.day for d in days], shares)
    assert svg.count('class="mark bar"') == 2  # zero segments are not drawn


def test_table_cells_print_numbers_in_significant_figures() -> None:
    html = table(["day", "n", "cost"], [(date(2026, 1, 5), 12345, Decimal("0.5"))])
    assert "<td>2026-01-05</td>" in html
    assert '<td class="num">12,345</td>' in html and '<td class="num">0.500</td>' in html


def _data(alerts: Table, leakage: Table) -> ReportData:
    return ReportData(
        headline=Headline("2026-01-01", "2026-01-02", 2, 12.345, 11.0, 14.0, 15.0, "USD"),
        features=[FeatureTotals("<search>", 12.345, 11.0, 14.0, 15.0)],
        day_amounts=[DayAmounts("2026-01-01", "<search>", 12.345, 15.0)],
        tenants=[("acme", 12.345)],
        reserved=[DayReserved("2026-01-01", 12.345, {"__idle__": 1.0})],
        alerts=alerts,
        leakage=leakage,
    )


def test_the_page_has_every_chart_and_escapes_names() -> None:
    page = render_html(_data(Table(["a"], missing="no cost_alerts table"), Table(["b"], [("x",)])))
    found = _marks(page)
    assert found.charts == list(CHARTS)
    assert all(found.marks[c] > 0 for c in CHARTS)
    assert "<search>" not in page and "&lt;search&gt;" in page
    assert "12.3" in page and "12.345" not in page
    assert "+21.5%" in page  # (15 - 12.345) / 12.345
    assert "no cost_alerts table" in page


# ------------------------------------------------------------------------- command line, browser


def _tiny_duckdb(path: Path, optional_tables: bool = True) -> None:
    """A few rows in each mart the report reads, built by hand (no dbt)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema feature_cost_marts")
        con.execute("use feature_cost_marts")
        con.execute(
            "create table feature_cost_margin (date_day date, feature_group varchar,"
            " feature_id varchar, tenant_id varchar, request_count bigint, total_cost double,"
            " cost_low double, cost_high double, revenue double, currency varchar,"
            " added_later varchar)"
        )
        rows = []
        for day in (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)):
            for feature, tenant, cost, revenue in (
                ("search", "acme", 10.0, 14.0),
                ("search", "globex", 5.0, 4.0),
                ("export", "acme", 8.0, 6.0),
                ("__unattributed__", "__shared__", 1.0, 0.0),
                ("__idle__", "__shared__", 2.0, 0.0),
                ("__flag_off__", "acme", 0.5, 0.0),
            ):
                if feature == "export" and day.day == 6:
                    continue  # a day without the feature: a gap in its margin line
                rows.append(
                    (day, "core", feature, tenant, 100, cost, cost * 0.9, cost * 1.2, revenue)
                )
        con.executemany(
            "insert into feature_cost_margin values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'USD', null)",
            rows,
        )
        if not optional_tables:
            return
        con.execute(
            "create table cost_alerts as select date '2026-01-06' as date_day,"
            " 'export' as feature_id, '__all__' as tenant_id, 'threshold' as alert_type,"
            " 0.08 as cost_per_request, 0.05 as limit_value, 100 as request_count,"
            " 8.0 as total_cost, null as forecast_cost"
        )
        con.execute(
            "create table flag_leakage as select date '2026-01-06' as date_day,"
            " 'export' as feature_id, 'worker' as service_name, 'render pdf' as span_name,"
            " 3 as invocation_count, 0.5 as estimated_cost"
        )


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium not installed")
    return found


def _headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_report(
    db: Path, page: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`feature-cost report` in a process of its own."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "feature_cost.cli",
            "report",
            "--duckdb",
            str(db),
            "--out",
            str(page),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_writes_a_page_that_draws_every_chart(tmp_path: Path) -> None:
    db, page = tmp_path / "tiny.duckdb", tmp_path / "out" / "report.html"
    _tiny_duckdb(db)
    run = run_report(db, page)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(page)
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "fetches something"
    assert "render pdf" in text and "threshold" in text

    browser = _chromium()
    dumped = _headless(
        browser, tmp_path / "p1", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    found = _marks(dumped.stdout)
    for chart in CHARTS:
        assert chart in found.charts, f"chart {chart} is not in the rendered page"
        assert found.marks[chart] > 0, f"chart {chart} drew nothing"
    assert found.marks["cost-vs-revenue"] == 3 * 5  # per feature: cost, revenue, whisker

    shot = tmp_path / "report.png"
    taken = _headless(
        browser, tmp_path / "p2", "--window-size=1000,1800", f"--screenshot={shot}", page.as_uri()
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


def test_missing_optional_tables_are_named_in_their_sections(tmp_path: Path) -> None:
    db, page = tmp_path / "tiny.duckdb", tmp_path / "report.html"
    _tiny_duckdb(db, optional_tables=False)
    assert write_report(db, page) == 0
    text = page.read_text(encoding="utf-8")
    assert "no cost_alerts table" in text and "no flag_leakage table" in text
    assert all(f'data-chart="{c}"' in text for c in CHARTS)


def test_a_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert write_report(tmp_path / "nope.duckdb", tmp_path / "r.html") == 1
    assert "no DuckDB file" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_file_without_the_mart_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    assert write_report(db, tmp_path / "r.html") == 1
    assert "no table feature_cost_marts.feature_cost_margin" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_the_headline_shows_margin_and_gross_margin_as_percentages() -> None:
    """Margin is (revenue - cost) / cost, gross margin (revenue - cost) / revenue, both printed
    as signed percentages; with no revenue there is no gross margin."""
    headline = Headline("2026-01-01", "2026-01-02", 2, 2.5, 2.0, 3.0, 10.0, "USD")
    assert headline.margin == 3.0
    assert headline.gross_margin == 0.75
    assert (percent(headline.margin), percent(headline.gross_margin)) == ("+300%", "+75.0%")
    assert Headline("2026-01-01", "2026-01-01", 1, 2.5, 2.0, 3.0, 0.0, "USD").gross_margin is None


def test_days_in_progress_are_named_and_left_out_of_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last day, still in progress (rule 16), is not drawn as a collapse of margin: the
    report's and the summary's figures cover the complete days and a note names the partial
    day with its cost so far."""
    db = tmp_path / "tiny.duckdb"
    _tiny_duckdb(db)
    with duckdb.connect(str(db)) as con:
        con.execute("use feature_cost_marts")
        con.execute("alter table feature_cost_margin add column is_complete_day boolean")
        for column in ("direct_cost", "shared_cost", "amortized_cost"):
            con.execute(f"alter table feature_cost_margin add column {column} double default 0")
        con.execute("update feature_cost_margin set is_complete_day = date_day < '2026-01-07'")
        data = load_report_data(con)
    assert (data.headline.first_day, data.headline.last_day) == ("2026-01-05", "2026-01-06")
    assert data.headline.day_count == 2
    assert data.headline.cost == pytest.approx(2 * 26.5 - 8.0)
    assert {row.day for row in data.day_amounts} == {"2026-01-05", "2026-01-06"}
    assert any("2026-01-07 (cost so far 26.5, revenue 24.0)" in note for note in data.notes)

    assert print_summary(db) == 0
    out = capsys.readouterr().out
    assert "2026-01-05 to 2026-01-06" in out
    assert "Still in progress" in out and "2026-01-07 (cost so far 26.5" in out

    with duckdb.connect(str(db)) as con:
        con.execute("use feature_cost_marts")
        con.execute("update feature_cost_margin set is_complete_day = false")
        data = load_report_data(con)
    assert data.headline.last_day == "2026-01-07"
    assert any(note.startswith("Every day is still in progress") for note in data.notes)


def test_the_commands_read_the_marts_where_the_environment_puts_them(tmp_path: Path) -> None:
    """FEATURE_COST_MARTS_SCHEMA moves the marts (the var marts_schema's default) and the
    commands follow it; a name that is not a plain identifier is refused, not spliced into SQL."""
    db, page = tmp_path / "tiny.duckdb", tmp_path / "report.html"
    _tiny_duckdb(db)
    with duckdb.connect(str(db)) as con:
        con.execute("create schema bi")
        tables = con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'feature_cost_marts'"
        ).fetchall()
        for (name,) in tables:
            con.execute(f"create table bi.{name} as select * from feature_cost_marts.{name}")
            con.execute(f"drop table feature_cost_marts.{name}")

    def report(schema: str) -> subprocess.CompletedProcess[str]:
        return run_report(db, page, {**os.environ, "FEATURE_COST_MARTS_SCHEMA": schema})

    moved = report("bi")
    assert moved.returncode == 0, moved.stderr
    assert "search" in page.read_text(encoding="utf-8")
    default = report("")
    assert default.returncode == 1
    assert "no table feature_cost_marts.feature_cost_margin" in default.stderr
    refused = report("bi; drop table x")
    assert refused.returncode == 2
    assert "is not a plain schema name" in refused.stderr
