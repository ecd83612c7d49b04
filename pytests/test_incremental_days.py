"""The span models are incremental by UTC day: a run rebuilds only the latest days (and a
lookback), a backfill rebuilds exactly the days it names. Every test compares real DuckDB
files built by real dbt runs.

- building a history one day at a time gives the same tables as one full build;
- a second build with nothing new changes nothing;
- spans that arrive late, for a day inside the lookback, are counted; older late spans wait
  for a backfill of their day, which then counts them;
- a rate-card correction followed by a backfill of one day changes that day, as a full build
  under the new card would, and leaves every other day as it was.
"""

from __future__ import annotations

import csv
import math
import shutil
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import DEMO_CONFIG, PROJECT_ROOT, SEED_DIR, dbt_vars_for, run_dbt
from feature_cost.demo import generate

# Each test builds its own data set with dbt: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

DAYS = 4
FIRST_DAY = DEMO_CONFIG.start_date
CONFIG = replace(DEMO_CONFIG, days=DAYS, requests_per_day=120)
# Every file has one name in its own folder: DuckDB names the database after the file, so
# builds on the same inputs share one parse (see conftest.run_dbt).
DB_NAME = "feature_cost.duckdb"

Rows = dict[str, list[tuple]]
RECONCILED = ("reconciled_cost", "reconciliation_basis")


def day(number: int) -> date:
    """The `number`-th day of the generated history, from 1."""
    return FIRST_DAY + timedelta(days=number - 1)


def seed_names(seed_dir: Path) -> set[str]:
    return {path.stem for path in seed_dir.glob("*.csv")}


def built_tables(path: Path) -> Rows:
    """Every model table of a build, rows sorted: not seeds, not the file-level base tables
    (they record file sizes and times), not views."""
    skip = seed_names(SEED_DIR)
    tables: Rows = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            (schema, name)
            for (schema, name) in con.execute(
                "select schema_name, table_name from duckdb_tables()"
                " where schema_name in ('main', 'feature_cost_marts')"
            ).fetchall()
            if name not in skip and not name.startswith("base_")
        ]
        for schema, name in names:
            rows = con.execute(f"select * from {schema}.{name}").fetchall()
            tables[name] = sorted((_portable(row) for row in rows), key=_sort_key)
    return tables


def _portable(row: tuple) -> tuple:
    """File paths reduced to their names: each build reads its own copy of the files."""
    return tuple(
        Path(v).name if isinstance(v, str) and v.endswith(".jsonl") and "/" in v else v for v in row
    )


def _sort_key(row: tuple) -> tuple:
    return tuple(
        (0, round(v, 6)) if isinstance(v, float) else (1, "") if v is None else (2, str(v))
        for v in row
    )


def _same_row(left: tuple, right: tuple) -> bool:
    return all(
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        if isinstance(a, float) and isinstance(b, float)
        else a == b
        for a, b in zip(left, right, strict=True)
    )


def differences(left: Rows, right: Rows) -> dict[str, str]:
    """Per table, how two builds differ (row counts, or the first differing row)."""
    found: dict[str, str] = {}
    for name in sorted(set(left) | set(right)):
        a, b = left.get(name), right.get(name)
        if a is None or b is None:
            found[name] = "missing in one build"
        elif len(a) != len(b):
            found[name] = f"{len(a)} rows vs {len(b)}"
        else:
            for x, y in zip(a, b, strict=True):
                if not _same_row(x, y):
                    found[name] = f"first difference: {x} vs {y}"
                    break
    return found


def awaiting_backfill(path: Path) -> dict[date, int]:
    """span_accounting.spans_awaiting_backfill per day, where not zero."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select date_day, spans_awaiting_backfill from feature_cost_marts.span_accounting"
            " where spans_awaiting_backfill != 0"
        ).fetchall()
    return dict(rows)


def span_statuses(path: Path) -> set[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return set(
            con.execute(
                "select trace_id, span_id, span_status from main.int_spans_screened"
            ).fetchall()
        )


def spans_received(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select sum(spans_received) from feature_cost_marts.span_accounting"
        ).fetchone()[0]


def mart_by_day(path: Path, without: tuple[str, ...] = ()) -> dict[date, list[tuple]]:
    """feature_cost_margin rows per day, sorted, every column but `without`."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select * from feature_cost_marts.feature_cost_margin").fetchall()
        columns = [d[0] for d in con.description]
    keep = [i for i, name in enumerate(columns) if name not in without]
    at = columns.index("date_day")
    by_day: dict[date, list[tuple]] = {}
    for row in rows:
        by_day.setdefault(row[at], []).append(tuple(row[i] for i in keep))
    return {d: sorted(r, key=_sort_key) for d, r in by_day.items()}


@dataclass(frozen=True)
class History:
    """A generated history, built once in full and once a day at a time."""

    root: Path
    generated: Path
    full_db: Path
    daily_db: Path


def build(db: Path, data: Path, work: Path, *args: str, project_dir: Path | None = None) -> None:
    """`dbt seed` (on a new file, or from another project copy) then `dbt run`; tests are
    the business of other modules."""
    dbt_vars = dbt_vars_for(data)
    if not db.exists() or project_dir is not None:
        run_dbt(["seed"], duckdb_path=db, vars=dbt_vars, target_dir=work, project_dir=project_dir)
    run_dbt(["run", *args], duckdb_path=db, vars=dbt_vars, target_dir=work, project_dir=project_dir)


def inputs_without_spans(generated: Path, data: Path) -> None:
    """Copy revenue, flags and the bill; the span files arrive one by one."""
    for folder in ("revenue", "feature_flags", "billing"):
        if (generated / folder).is_dir():
            shutil.copytree(generated / folder, data / folder)
    (data / "otlp").mkdir(parents=True)


def span_file(generated: Path, number: int) -> Path:
    return generated / "otlp" / f"traces-{day(number).isoformat()}.jsonl"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("incremental_days")
    generated = root / "generated"
    generate(CONFIG, generated)
    assert len(list((generated / "otlp").glob("*.jsonl"))) == DAYS

    full_db = root / "full" / DB_NAME
    build(full_db, generated, root / "full")

    data = root / "daily"
    inputs_without_spans(generated, data)
    daily_db = root / "daily-db" / DB_NAME
    for number in range(1, DAYS + 1):
        shutil.copy2(span_file(generated, number), data / "otlp")
        build(daily_db, data, root / "daily-run")
    return History(root, generated, full_db, daily_db)


def test_building_day_by_day_equals_one_full_build(history: History) -> None:
    daily, full = built_tables(history.daily_db), built_tables(history.full_db)
    assert "int_span_days_priced" in daily and "feature_cost_margin" in daily
    assert sum(len(rows) for rows in full.values()) > 1000
    assert differences(daily, full) == {}
    assert awaiting_backfill(history.full_db) == {}


def test_a_history_built_in_batches_of_days_equals_one_full_build(
    history: History, tmp_path: Path
) -> None:
    """A long history can be built in batches: a first build given --event-time-start/-end
    builds only those days, and the next batch (a backfill) the following ones."""
    db = tmp_path / "batches" / DB_NAME
    split = day(3).isoformat()
    build(
        db,
        history.generated,
        tmp_path / "run",
        "--event-time-start",
        day(1).isoformat(),
        "--event-time-end",
        split,
    )
    with duckdb.connect(str(db), read_only=True) as con:
        built_days = con.execute("select distinct start_day from main.int_spans_attributed")
        assert {d for (d,) in built_days.fetchall()} == {day(1), day(2)}
    build(
        db,
        history.generated,
        tmp_path / "run",
        "--event-time-start",
        split,
        "--event-time-end",
        day(DAYS + 2).isoformat(),  # work that ran past the last midnight included
    )
    assert differences(built_tables(db), built_tables(history.full_db)) == {}
    assert awaiting_backfill(db) == {}


def test_the_incremental_run_rebuilds_only_the_latest_days(history: History) -> None:
    """The daily run's SQL deletes from the latest day built minus the lookback (1 day),
    and the days its new rows fall on."""
    compiled = (
        history.root
        / "daily-run"
        / "target"
        / "run"
        / "feature_cost"
        / "models"
        / "intermediate"
        / "spans"
        / "int_span_days_priced.sql"
    ).read_text()
    # Before the last run the latest day built was day DAYS - 1; minus the lookback of 1 day:
    assert f"date_day >= cast('{day(DAYS - 2).isoformat()}' as date)" in compiled
    assert "delete from" in compiled


def test_the_daily_run_screens_only_its_days(history: History) -> None:
    """Screening reads the spans of the window's days (on the stored start day, so older
    files' rows are skipped) and compares them with the accepted spans of the day before,
    never the whole history."""
    spans_dir = history.root / "daily-run" / "target" / "compiled" / "feature_cost" / "models"
    compiled = (spans_dir / "intermediate" / "spans" / "int_spans_screened.sql").read_text()
    window_start = day(DAYS - 2).isoformat()
    assert f"raw_start_day >= cast('{window_start}' as date)" in compiled
    assert f"start_day < cast('{window_start}' as date)" in compiled
    assert f"start_day >= cast('{day(DAYS - 3).isoformat()}' as date)" in compiled


def test_a_second_build_with_nothing_new_changes_nothing(history: History, tmp_path: Path) -> None:
    db = tmp_path / "again" / DB_NAME
    db.parent.mkdir()
    shutil.copy2(history.daily_db, db)
    before = built_tables(db)
    build(db, history.root / "daily", tmp_path / "run")
    assert differences(built_tables(db), before) == {}


def split_lines(path: Path, late_share: float) -> tuple[list[str], list[str]]:
    lines = path.read_text().splitlines(keepends=True)
    cut = int(len(lines) * (1 - late_share))
    return lines[:cut], lines[cut:]


def test_late_spans_inside_the_lookback_are_counted_and_older_ones_wait_for_a_backfill(
    history: History, tmp_path: Path
) -> None:
    # Days 1..DAYS were built (at once here: the next run's window is set by the latest day
    # built, not by how the days came; day-by-day runs are the history fixture's), but a
    # third of the last-but-one day's spans and of day 1's spans arrive only after that.
    data = tmp_path / "data"
    inputs_without_spans(history.generated, data)
    late_recent = split_lines(span_file(history.generated, DAYS - 1), 1 / 3)
    late_old = split_lines(span_file(history.generated, 1), 1 / 3)
    db = tmp_path / "late" / DB_NAME
    for number in range(1, DAYS + 1):
        target = data / "otlp" / span_file(history.generated, number).name
        if number == DAYS - 1:
            target.write_text("".join(late_recent[0]))
        elif number == 1:
            target.write_text("".join(late_old[0]))
        else:
            shutil.copy2(span_file(history.generated, number), target)
    build(db, data, tmp_path / "run")
    assert differences(built_tables(db), built_tables(history.full_db)) != {}

    (data / "otlp" / "late-recent.jsonl").write_text("".join(late_recent[1]))
    (data / "otlp" / "late-old.jsonl").write_text("".join(late_old[1]))
    build(db, data, tmp_path / "run")
    # The bill is reconciled per month: until day 1's late spans are costed, the month's
    # estimate (and so every day's reconciled cost) differs; the rest must not.
    full = mart_by_day(history.full_db, without=RECONCILED)
    after = mart_by_day(db, without=RECONCILED)
    window = [day(DAYS - 1), day(DAYS)]  # the latest day built and the lookback (1 day)
    for when in window:
        assert differences({"m": after[when]}, {"m": full[when]}) == {}, when
    # Spans of days before the window (day 1, and traces from day 1 that ran past midnight)
    # are decoded and accounted for as awaiting a backfill, not yet costed.
    waiting = awaiting_backfill(db)
    assert waiting and all(when < window[0] for when in waiting), waiting
    assert differences({"m": after[day(1)]}, {"m": full[day(1)]}) != {}
    assert spans_received(db) == spans_received(history.full_db)

    start, end = day(1).isoformat(), window[0].isoformat()
    build(db, data, tmp_path / "run", "--event-time-start", start, "--event-time-end", end)
    # The late spans came in other files than in the full build: screening records the file
    # and line of each span, so it is compared by span and status instead.
    backfilled, reference = built_tables(db), built_tables(history.full_db)
    assert span_statuses(db) == span_statuses(history.full_db)
    del backfilled["int_spans_screened"], reference["int_spans_screened"]
    assert differences(backfilled, reference) == {}
    assert awaiting_backfill(db) == {}


def corrected_project(tmp_path: Path, corrected: date, factor: float) -> Path:
    """A copy of the project whose rate cards charge `factor` times the CPU price on one day:
    each row in force that day is split into the days before, the day, and the days after."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(PROJECT_ROOT / name, copy / name)
    for folder in ("models", "macros", "seeds"):
        shutil.copytree(PROJECT_ROOT / folder, copy / folder)
    cards = copy / "seeds" / "rate_cards.csv"
    with cards.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    after = (corrected + timedelta(days=1)).isoformat()
    out = []
    for row in rows:
        starts, ends = date.fromisoformat(row["effective_from"]), row["effective_to"]
        if not (starts <= corrected and (not ends or corrected < date.fromisoformat(ends))):
            out.append(row)
            continue
        if starts < corrected:
            out.append({**row, "effective_to": corrected.isoformat()})
        price = f"{float(row['cpu_per_ms']) * factor:.10f}"
        out.append(
            {
                **row,
                "effective_from": corrected.isoformat(),
                "effective_to": after,
                "cpu_per_ms": price,
            }
        )
        if not ends or date.fromisoformat(ends) > date.fromisoformat(after):
            out.append({**row, "effective_from": after})
    with cards.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(out)
    return copy


def test_a_rate_correction_and_a_backfill_change_exactly_the_backfilled_day(
    history: History, tmp_path: Path
) -> None:
    # Without a bill: reconciliation to a monthly bill would, by design, move the month's
    # billed total between days when one day's estimate changes.
    data = tmp_path / "data"
    inputs_without_spans(history.generated, data)
    shutil.rmtree(data / "billing", ignore_errors=True)
    for number in range(1, DAYS + 1):
        shutil.copy2(span_file(history.generated, number), data / "otlp")
    db = tmp_path / "corrected" / DB_NAME
    build(db, data, tmp_path / "before")
    before = mart_by_day(db)

    corrected_day = day(2)
    project = corrected_project(tmp_path, corrected_day, factor=2.0)
    build(
        db,
        data,
        tmp_path / "backfill",
        "--event-time-start",
        corrected_day.isoformat(),
        "--event-time-end",
        (corrected_day + timedelta(days=1)).isoformat(),
        project_dir=project,
    )
    after = mart_by_day(db)

    reference_db = tmp_path / "reference" / DB_NAME
    build(reference_db, data, tmp_path / "reference", project_dir=project)
    reference = mart_by_day(reference_db)

    assert set(after) == set(before)
    for when in sorted(before):
        if when == corrected_day:
            assert differences({"m": after[when]}, {"m": before[when]}) != {}
            assert differences({"m": after[when]}, {"m": reference[when]}) == {}
        else:
            assert differences({"m": after[when]}, {"m": before[when]}) == {}, when
