"""Real inputs end to end: two span layouts, damaged OTLP files, a real provider's FOCUS bill.

Each test builds the whole project with dbt into its own DuckDB file and reads the result.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import DEMO_CONFIG, PROJECT_ROOT, DemoBuild, dbt_vars_for, run_dbt, source_columns
from conftest import otlp_span as _span
from feature_cost.demo import generate

FOCUS_SAMPLE = PROJECT_ROOT.parent / "shared" / "data" / "focus-1.0-sample" / "focus_sample.csv"

MART_COLUMNS = (
    "date_day, feature_id, tenant_id, request_count, query_count, busy_ms, cpu_cost,"
    " memory_cost, gpu_cost, db_query_cost, llm_cost, shared_cost, build_amortization_cost,"
    " maintenance_cost, total_cost, cost_low, cost_high, reconciled_cost, revenue"
)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _close(left: object, right: object) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    return left == right


@pytest.mark.slow
def _focus_parquet(csv_path: Path, out: Path) -> Path:
    """The CSV bill as a Parquet export types it (AWS's FOCUS export): times as timestamps,
    costs as decimals, ``Tags`` as a MAP; without ``SubAccountId``, which FOCUS lets a provider
    leave out."""
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        con.execute(
            'copy (select * exclude ("SubAccountId") replace ('
            ' cast("ChargePeriodStart" as timestamptz) as "ChargePeriodStart",'
            ' cast("ChargePeriodEnd" as timestamptz) as "ChargePeriodEnd",'
            ' cast("BilledCost" as decimal(38, 10)) as "BilledCost",'
            ' cast("EffectiveCost" as decimal(38, 10)) as "EffectiveCost",'
            " cast(json_transform(nullif(nullif(\"Tags\", ''), 'NULL'),"
            ' \'"MAP(VARCHAR, VARCHAR)"\') as map(varchar, varchar)) as "Tags")'
            f" from read_csv('{csv_path}', all_varchar = true)) to '{out}' (format parquet)"
        )
        ((tags_type,),) = con.execute(f"select typeof(\"Tags\") from '{out}' limit 1").fetchall()
    assert tags_type.startswith("MAP"), tags_type
    return out


def test_both_span_inputs_give_the_same_mart(demo_build: DemoBuild, tmp_path: Path) -> None:
    """OTLP/JSON Lines and the ClickHouse exporter's Parquet layout, with the bill as CSV and
    as a Parquet export (typed columns, ``Tags`` a MAP, an optional column left out): identical
    marts (the session's demo build read the OTLP files and the CSV; the Parquet of both is
    built here)."""
    data_dir = demo_build.data_dir
    otlp_db = demo_build.duckdb_path
    parquet_db = tmp_path / "parquet" / "feature_cost.duckdb"
    bill = _focus_parquet(data_dir / "billing" / "focus.csv", tmp_path / "focus.parquet")
    run_dbt(
        ["build"],
        duckdb_path=parquet_db,
        vars={
            **demo_build.vars,
            "span_source": "clickhouse_parquet",
            "clickhouse_spans_path": str(data_dir / "clickhouse" / "*.parquet"),
            "focus_billing_path": str(bill),
        },
        target_dir=tmp_path / "parquet",
    )
    query = f"select {MART_COLUMNS} from feature_cost_marts.feature_cost_margin order by 1, 2, 3"
    from_otlp = _rows(otlp_db, query)
    from_parquet = _rows(parquet_db, query)
    assert len(from_otlp) == len(from_parquet) > 0
    for left, right in zip(from_otlp, from_parquet, strict=True):
        assert all(_close(a, b) for a, b in zip(left, right, strict=True)), (left, right)
    accounting = "select * from feature_cost_marts.span_accounting order by date_day"
    assert _rows(otlp_db, accounting) == _rows(parquet_db, accounting)
    # Span links (the batch consumer's links to its producers) decode the same from both.
    links = (
        "select trace_id, span_id, link_index, linked_trace_id, linked_span_id"
        " from main.stg_otel__span_links order by all"
    )
    link_rows = _rows(otlp_db, links)
    assert link_rows == _rows(parquet_db, links)
    written = [
        (span["traceId"], span["spanId"], link["traceId"], link["spanId"])
        for path in sorted((data_dir / "otlp").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
        for link in span.get("links", [])
    ]
    assert len(written) > 0
    assert sorted((r[0], r[1], r[3], r[4]) for r in link_rows) == sorted(written)


def test_an_otlp_glob_that_matches_no_file_stops_a_first_build_only(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """A mistyped path would read as no spans and build marts from the seeds alone: a first
    build stops at the first model, naming the var and its value. On a built file it is a
    warning: the decoded history outlives the files' rotation."""
    missing = tmp_path / "no-such-folder" / "*.jsonl*"
    select = ["build", "--select", "base_otel__otlp_lines"]
    with pytest.raises(AssertionError) as failed:
        run_dbt(
            select,
            duckdb_path=tmp_path / "first" / "feature_cost.duckdb",
            vars={"otlp_path": str(missing)},
            target_dir=tmp_path / "first",
        )
    assert f"the var otlp_path ('{missing}') matches no file" in str(failed.value)

    built = tmp_path / "built" / "feature_cost.duckdb"
    built.parent.mkdir()
    shutil.copyfile(demo_build.duckdb_path, built)
    lines = "select count(*) from main.base_otel__otlp_lines"
    before = _rows(built, lines)
    rotated = run_dbt(
        select,
        duckdb_path=built,
        vars={**demo_build.vars, "otlp_path": str(missing)},
        target_dir=tmp_path / "built",
    )
    assert "matches no file. No new spans are read" in rotated.stdout
    assert _rows(built, lines) == before


def test_the_demo_writes_the_columns_its_sources_declare(demo_build: DemoBuild) -> None:
    """The sources YAML types each source's columns once; the demo's files carry exactly
    those columns (a FOCUS export has more: the declared ones are among them), and its
    Parquet spans are the ClickHouse exporter's layout of the declared table, events and
    links as parallel arrays (``Events.Name``) where BigQuery holds arrays of structs."""
    declared = {key: [name for name, _ in columns] for key, columns in source_columns().items()}
    data = demo_build.data_dir

    def header(pattern: str) -> list[str]:
        (path,) = data.glob(pattern)
        with path.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle))

    assert header("revenue/*.csv") == declared[("app", "revenue")]
    assert header("feature_flags/*.csv") == declared[("app", "feature_flags")]
    assert set(declared[("billing", "focus_cost_and_usage")]) <= set(header("billing/*.csv"))
    parquet = pq.read_schema(next(data.glob("clickhouse/*.parquet"))).names
    nested_as_parallel_arrays = list(dict.fromkeys(name.split(".")[0] for name in parquet))
    assert nested_as_parallel_arrays == declared[("otel", "clickhouse_spans")]


def _line(*spans: dict) -> str:
    resource = {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": "web-gateway"}},
            {"key": "cloud.region", "value": {"stringValue": "us-east-1"}},
            {"key": "host.type", "value": {"stringValue": "m5.xlarge"}},
        ]
    }
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": list(spans)}]}]}
    return json.dumps(body)


DAY = 1_767_571_200_000_000_000  # 2026-01-05T00:00:00Z
MS = 1_000_000


def _write_damaged_input(data_dir: Path) -> dict[str, Any]:
    """One file with every kind of damage a real pipeline delivers; returns what to expect."""
    good = _span(
        "a" * 32,
        "1" * 16,
        DAY + 1000 * MS,
        DAY + 1100 * MS,
        **{"feature.id": "checkout-v2", "tenant.id": "tenant-acme"},
    )
    orphan = _span(
        "b" * 32,
        "2" * 16,
        DAY + 2000 * MS,
        DAY + 2050 * MS,
        parent="9" * 16,
        **{"feature.id": "advanced-reports", "tenant.id": "t2"},
    )
    orphan_child = _span("b" * 32, "3" * 16, DAY + 2010 * MS, DAY + 2020 * MS, parent="2" * 16)
    backwards = _span("c" * 32, "4" * 16, DAY + 3000 * MS, DAY + 2000 * MS)
    no_trace = _span("", "5" * 16, DAY, DAY + MS)
    no_span = _span("d" * 32, "", DAY, DAY + MS)
    future = _span("e" * 32, "6" * 16, DAY * 3, DAY * 3 + MS)
    lines = [
        _line(good),
        _line(good),  # the same line delivered twice
        _line(orphan, orphan_child),
        _line(backwards, no_trace, no_span, future),
        _line(good)[:57],  # truncated mid-object
        "this is not JSON {",
        "",
    ]
    otlp = data_dir / "otlp"
    otlp.mkdir(parents=True)
    (otlp / "damaged.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "received": 8,
        "duplicates": 1,
        "quarantined": 4,
        "corrupt_lines": 2,
        "lines": lines,
    }


@pytest.mark.slow
def test_damaged_input_is_accounted_for_row_by_row(tmp_path: Path) -> None:
    """Duplicates removed, bad spans and lines quarantined with reasons, orphans as roots."""
    data_dir = tmp_path / "data"
    expected = _write_damaged_input(data_dir)
    lines_written = expected["lines"]
    generate(replace(DEMO_CONFIG, days=1, requests_per_day=0), tmp_path / "context")
    dbt_vars = {
        **dbt_vars_for(tmp_path / "context"),
        "otlp_path": str(data_dir / "otlp" / "*.jsonl"),
        "focus_billing_path": "",
    }
    db = tmp_path / "feature_cost.duckdb"
    # The rate-card and revenue context comes from a generated day with no requests.
    run_dbt(["build"], duckdb_path=db, vars=dbt_vars, target_dir=tmp_path)

    received, attributed, unattributed, flag_off, quarantined, duplicates, lost, lines = (
        sum(column)
        for column in zip(
            *_rows(
                db,
                "select spans_received, spans_attributed, spans_unattributed, spans_flag_off,"
                " spans_quarantined, duplicates_removed, spans_unaccounted, lines_quarantined"
                " from feature_cost_marts.span_accounting",
            ),
            strict=True,
        )
    )
    assert received == expected["received"]
    assert duplicates == expected["duplicates"]
    assert quarantined == expected["quarantined"]
    assert lines == expected["corrupt_lines"]
    assert lost == 0
    assert received == attributed + unattributed + flag_off + quarantined + duplicates

    reasons = sorted(
        _rows(
            db,
            "select quarantine_reason, line_number"
            " from feature_cost_marts.span_quarantine order by 2, 1",
        )
    )
    assert reasons == sorted(
        [
            ("ends_before_start", 4),
            ("invalid_trace_id", 4),
            ("invalid_span_id", 4),
            ("starts_in_the_future", 4),
            ("invalid_json", 5),
            ("invalid_json", 6),
        ]
    )
    # A line that is not JSON shows its start, to see what it was.
    excerpts = _rows(
        db,
        "select line_number, quarantine_detail from feature_cost_marts.span_quarantine"
        " where quarantine_reason = 'invalid_json' order by 1",
    )
    assert excerpts == [(5, lines_written[4]), (6, "this is not JSON {")]
    # The orphan whose parent never arrived is a root: its feature and its child's stand.
    orphans = _rows(
        db,
        "select span_id, feature_id, attribution_basis from main.int_spans_attributed"
        f" where trace_id = '{'b' * 32}' order by span_id",
    )
    assert orphans == [
        ("2" * 16, "advanced-reports", "own"),
        ("3" * 16, "advanced-reports", "ancestor"),
    ]
    # The duplicate delivery is counted once.
    requests = _rows(
        db,
        "select sum(request_count)"
        " from feature_cost_marts.feature_cost_margin where feature_id = 'checkout-v2'",
    )
    assert requests == [(1,)]


@pytest.mark.skipif(
    not FOCUS_SAMPLE.exists(), reason="the FOCUS 1.0 sample is not beside the project"
)
@pytest.mark.slow
def test_real_focus_export_loads_and_reconciles(tmp_path: Path) -> None:
    """The FinOps Foundation's sample of real AWS/Azure/OCI billing: every charge loads, the
    literal NULLs are nulls, and its total reaches the daily bill exactly once."""
    data_dir = tmp_path / "data"
    generate(replace(DEMO_CONFIG, days=1, requests_per_day=20), data_dir)
    db = tmp_path / "feature_cost.duckdb"
    dbt_vars = {**dbt_vars_for(data_dir), "focus_billing_path": str(FOCUS_SAMPLE)}
    run_dbt(["build"], duckdb_path=db, vars=dbt_vars, target_dir=tmp_path)

    ((charges, nulls_left, export_total),) = _rows(
        db,
        "select count(*), count(*) filter (where tags = 'NULL' or resource_id = 'NULL'),"
        " sum(effective_cost) from main.stg_billing__focus_charges",
    )
    assert charges == 1000
    assert nulls_left == 0
    ((daily_total,),) = _rows(db, "select sum(billed_cost) from main.int_billed_costs_by_day")
    assert math.isclose(daily_total, export_total, rel_tol=1e-9)
    ((unmapped,),) = _rows(
        db,
        "select sum(billed_cost)"
        " from feature_cost_marts.rate_card_variance where target_type = '__unmapped__'",
    )
    # None of the sample's charges carries our mapping tags: all of it stays visible, unmapped.
    assert math.isclose(unmapped, export_total, rel_tol=1e-9)
