"""The benchmark data generator (``feature_cost.bench_data``) on a tiny data set.

Two days of 3,000 spans each, in chunks of about 1,000 spans: the OTLP/JSON Lines are valid
``TracesData`` in the protobuf JSON mapping, the Parquet files have the demo's ClickHouse
layout, both hold the same spans with the demo's shapes, the output is the same for the same
seed, and the dbt project builds on either input with every test passing and the same
``feature_cost_margin``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import BUILD_WITHOUT_TESTS, SEED_DIR, dbt_vars_for, run_dbt
from feature_cost.bench_data import BenchConfig, BenchData, generate, main
from feature_cost.clickhouse import SCHEMA
from feature_cost.demo import RESOURCES, TENANTS

CONFIG = BenchConfig(
    seed=5, days=2, spans_per_day=3_000, start_date=date(2026, 1, 5), spans_per_file=1_000
)
HEX = {32: re.compile(r"^[0-9a-f]{32}$"), 16: re.compile(r"^[0-9a-f]{16}$")}
VALUE_TYPES = {"stringValue", "intValue", "doubleValue", "boolValue", "arrayValue"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> BenchData:
    return generate(CONFIG, tmp_path_factory.mktemp("bench_data") / "data")


def otlp_spans(data_dir: Path) -> list[dict[str, Any]]:
    """Every span of the OTLP files, with its file, resource attributes and scope name."""
    spans = []
    for path in sorted((data_dir / "otlp").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            traces_data = json.loads(line)
            assert list(traces_data) == ["resourceSpans"]
            for resource_spans in traces_data["resourceSpans"]:
                resource = attributes(resource_spans["resource"]["attributes"])
                for scope_spans in resource_spans["scopeSpans"]:
                    for span in scope_spans["spans"]:
                        spans.append(
                            {
                                **span,
                                "file": path.name,
                                "resource": resource,
                                "scope": scope_spans["scope"]["name"],
                            }
                        )
    return spans


def attributes(key_values: list[dict[str, Any]]) -> dict[str, Any]:
    """An OTLP KeyValue list as a dict; every value typed (one ``<type>Value``)."""
    out = {}
    for kv in key_values:
        (kind, value), *rest = kv["value"].items()
        assert not rest and kind in VALUE_TYPES, kv
        if kind == "intValue":
            assert isinstance(value, str) and value.isdigit(), kv
        out[kv["key"]] = value
    return out


def day_of(nanos: str) -> date:
    return datetime.fromtimestamp(int(nanos) // 10**9, UTC).date()


def test_otlp_is_the_collector_file_format_with_the_demo_shapes(bench: BenchData) -> None:
    spans = otlp_spans(bench.out_dir)
    assert bench.spans == len(spans) == CONFIG.days * CONFIG.spans_per_day
    # Split by day and into chunks, each day's files holding exactly its spans.
    per_file_day = Counter(
        span["file"][len("traces-") : len("traces-2026-01-05")] for span in spans
    )
    assert per_file_day == {d.isoformat(): CONFIG.spans_per_day for d in CONFIG.dates}
    assert len(bench.files["otlp"]) == 6
    for span in spans:
        assert HEX[32].match(span["traceId"]) and HEX[16].match(span["spanId"]), span
        assert span["parentSpanId"] == "" or HEX[16].match(span["parentSpanId"]), span
        assert isinstance(span["kind"], int) and span["kind"] in (1, 2, 3, 5)
        assert int(span["startTimeUnixNano"]) <= int(span["endTimeUnixNano"])
        assert isinstance(span["startTimeUnixNano"], str)
        span["attributes"] = attributes(span["attributes"])
    assert len({(s["traceId"], s["spanId"]) for s in spans}) == len(spans)

    services = {tuple(sorted(s["resource"].items())) for s in spans}
    assert len(services) == len(RESOURCES)
    with (SEED_DIR / "feature_taxonomy.csv").open(encoding="utf-8") as handle:
        taxonomy = {row["feature_id"] for row in csv.DictReader(handle)}
    features = {s["attributes"].get("feature.id") for s in spans} - {None}
    assert features == taxonomy
    tenants = {s["attributes"].get("tenant.id") for s in spans} - {None}
    assert tenants == set(TENANTS)

    # A gateway SERVER span above each feature span; feature spans carry tenant and variant.
    by_id = {(s["traceId"], s["spanId"]): s for s in spans}
    feature_spans = [s for s in spans if s["name"].startswith("feature:")]
    assert feature_spans
    for span in feature_spans:
        parent = by_id[(span["traceId"], span["parentSpanId"])]
        assert parent["kind"] == 2 and parent["resource"]["service.name"] == "web-gateway"
        assert span["attributes"]["feature.id"] == span["name"].removeprefix("feature:")
    assert any("feature.variant" in s["attributes"] for s in feature_spans)
    # Database calls (with the deprecated attribute name on some), cache calls, LLM calls.
    db_calls = [s for s in spans if s["name"].startswith("SELECT ")]
    assert all(s["kind"] == 3 and s["attributes"]["server.address"] for s in db_calls)
    assert {"db.system", "db.system.name"} <= {k for s in db_calls for k in s["attributes"]}
    assert any(e["name"] == "db.query" for s in spans for e in s.get("events", []))
    assert any(s["attributes"].get("db.system.name") == "redis" for s in spans)
    llm = [s for s in spans if "gen_ai.usage.input_tokens" in s["attributes"]]
    assert llm and all(s["attributes"]["gen_ai.request.model"] for s in llm)
    # Some spans cross midnight; some traces carry a sampling threshold.
    crossing = [s for s in spans if day_of(s["startTimeUnixNano"]) != day_of(s["endTimeUnixNano"])]
    assert crossing
    sampled = sum(1 for s in spans if s.get("traceState") == "ot=th:8")
    assert 0 < sampled < len(spans) / 2
    # The order-events consumer's batches, one per 200 spans of a day: four links each, to
    # the roots of the day's requests (an orphan checkout's root was never sent).
    batches = [s for s in spans if s.get("links")]
    assert len(batches) == CONFIG.days * CONFIG.spans_per_day // 200
    for batch in batches:
        assert batch["kind"] == 5
        assert int(batch["attributes"]["messaging.batch.message_count"]) == 5
        assert len(batch["links"]) == 4
    links = [(link["traceId"], link["spanId"]) for s in batches for link in s["links"]]
    roots = {(s["traceId"], s["spanId"]) for s in spans if not s["parentSpanId"]}
    assert sum(link in roots for link in links) > 0.9 * len(links)


def test_parquet_has_the_demo_layout_and_the_same_spans(bench: BenchData) -> None:
    files = bench.files["parquet"]
    assert len(files) == 6
    for path in files:
        schema = pq.read_schema(path)
        assert schema.names == SCHEMA.names
        assert [f.type for f in schema] == [f.type for f in SCHEMA]
    otlp = {
        (s["traceId"], s["spanId"]): (
            s["parentSpanId"],
            s["name"],
            int(s["startTimeUnixNano"]),
            int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"]),
            len(s["attributes"]),
            len(s.get("events", [])),
            [(link["traceId"], link["spanId"]) for link in s.get("links", [])],
            s.get("traceState", ""),
            s["resource"]["service.name"],
        )
        for s in otlp_spans(bench.out_dir)
    }
    with duckdb.connect() as con:
        rows = con.execute(
            "select TraceId, SpanId, ParentSpanId, SpanName, epoch_ns(Timestamp), Duration,"
            ' cardinality(SpanAttributes), len("Events.Name"),'
            ' list_zip("Links.TraceId", "Links.SpanId"), TraceState, ServiceName'
            f" from read_parquet('{bench.out_dir}/clickhouse/*.parquet')"
        ).fetchall()
    parquet = {(r[0], r[1]): (*r[2:8], [tuple(pair) for pair in r[8]], *r[9:]) for r in rows}
    assert parquet == otlp


def test_same_seed_same_bytes(bench: BenchData, tmp_path: Path) -> None:
    again = generate(replace(CONFIG, days=1, formats=("otlp",), threads=1), tmp_path / "data")
    first = bench.files["otlp"][0]
    assert again.files["otlp"][0].read_bytes() == first.read_bytes()


def test_the_command_line_builds_the_config(bench: BenchData, tmp_path: Path) -> None:
    """The options make a BenchConfig (a field without an option fails here) that writes the
    same bytes as ``generate`` with the same values."""
    out = tmp_path / "data"
    args = ["--out", str(out), "--days", "1", "--spans-per-day", "3000", "--seed", "5"]
    args += ["--start-date", "2026-01-05", "--spans-per-file", "1000", "--format", "otlp"]
    args += ["--spans-per-line", "64", "--job-interval-minutes", "30", "--threads", "1"]
    assert main([*args, "--memory-limit", "1GB", "--quiet"]) == 0
    config = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["config"]
    assert config["days"] == 1 and config["formats"] == ["otlp"]
    assert config["seed"] == 5 and config["start_date"] == "2026-01-05"
    written = sorted((out / "otlp").glob("*.jsonl"))
    assert written[0].read_bytes() == bench.files["otlp"][0].read_bytes()


@pytest.mark.slow
def test_the_project_builds_on_both_inputs_with_the_same_margins(
    bench: BenchData, tmp_path: Path
) -> None:
    otlp_vars = dbt_vars_for(bench.out_dir)
    parquet_vars = {
        **otlp_vars,
        "span_source": "clickhouse_parquet",
        "clickhouse_spans_path": str(bench.out_dir / "clickhouse" / "*.parquet"),
    }
    # Every data test on the OTLP build; the Parquet build feeds the comparison (its data
    # tests run on the demo's Parquet in test_inputs).
    runs = {"otlp": (otlp_vars, ["build"]), "parquet": (parquet_vars, BUILD_WITHOUT_TESTS)}

    def build(name: str) -> Path:
        path = tmp_path / name / "feature_cost.duckdb"
        dbt_vars, command = runs[name]
        run_dbt(command, duckdb_path=path, vars=dbt_vars, target_dir=tmp_path / name)
        return path

    built = {name: build(name) for name in runs}

    margins = {}
    for name, path in built.items():
        with duckdb.connect(str(path), read_only=True) as con:
            (received,) = con.execute(
                "select sum(spans_received) from feature_cost_marts.span_accounting"
            ).fetchone()
            assert received == bench.spans
            margins[name] = {
                row[:3]: row[3:]
                for row in con.execute(
                    "select date_day, feature_id, tenant_id, request_count, query_count,"
                    " busy_ms, total_cost, revenue from feature_cost_marts.feature_cost_margin"
                ).fetchall()
            }
    assert margins["otlp"].keys() == margins["parquet"].keys()
    features = {key[1] for key in margins["otlp"]}
    assert {"checkout-v2", "smart-summary", "real-time-dashboard"} <= features
    for key, values in margins["otlp"].items():
        for a, b in zip(values, margins["parquet"][key], strict=True):
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
