"""The BigQuery path, proven offline.

Unit tests of the catalog the GoogleSQL analyzer works against (types, seeds, sources,
dependency order, upstream output schemas) on small inputs, and two tests, marked `bigquery`,
that share one offline compile of the whole project for BigQuery: one checks every model and
data test, the other the partitioning and clustering of the large models.
"""

from __future__ import annotations

import importlib.util
import json
import os
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import get_flags, set_flags, set_from_args
from dbt_common.context import set_invocation_context

import bigquery_check as bq
from conftest import PROJECT_ROOT, source_columns

needs_zetasql = pytest.mark.skipif(
    importlib.util.find_spec("zetasql") is None, reason="zetasql is not installed"
)

KV = "ARRAY<STRUCT<key STRING, value STRING>>"


def node(name: str, sql: str, *depends_on: str) -> bq.CompiledNode:
    """A compiled model named `name` in `p.d`, reading the given unique ids."""
    return bq.CompiledNode(f"model.x.{name}", name, sql, ("p", "d", name), depends_on)


# --- types ----------------------------------------------------------------------------------


@needs_zetasql
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STRING", "STRING"),
        ("string", "STRING"),
        ("bigint", "INT64"),
        ("INTEGER", "INT64"),
        ("boolean", "BOOL"),
        ("float64", "FLOAT64"),
        ("NUMERIC(18, 6)", "NUMERIC"),
        ("date", "DATE"),
        (KV, KV),
        (
            f"ARRAY<STRUCT<Timestamp TIMESTAMP, Name STRING, Attributes {KV}>>",
            f"ARRAY<STRUCT<Timestamp TIMESTAMP, Name STRING, Attributes {KV}>>",
        ),
    ],
)
def test_type_text_round_trips_through_zetasql_types(text: str, expected: str) -> None:
    assert bq.type_text(bq.parse_type(text)) == expected


@needs_zetasql
@pytest.mark.parametrize("text", ["double", "varchar", "ARRAY<STRING", "STRUCT<a>", "INT64 x"])
def test_parse_type_rejects_what_bigquery_does_not_spell(text: str) -> None:
    with pytest.raises(ValueError):
        bq.parse_type(text)


@needs_zetasql
def test_every_warehouse_source_is_typed_in_its_yaml_as_valid_googlesql() -> None:
    schemas = {
        key: bq.source_schema({"columns": {name: {"data_type": t} for name, t in columns}})
        for key, columns in source_columns().items()
    }
    # Read only as files on DuckDB: no warehouse table, no types.
    assert schemas.pop(("otel", "otlp_trace_files")) is None
    for key, columns in schemas.items():
        assert columns is not None, key
        bq.typed(columns)
    spans = {
        name: bq.type_text(bq.parse_type(t))
        for name, t in schemas[("otel", "clickhouse_spans")] or []
    }
    assert spans["SpanAttributes"] == KV
    assert spans["Duration"] == "INT64"
    focus = dict(schemas[("billing", "focus_cost_and_usage")] or [])
    assert {"ChargePeriodStart", "EffectiveCost", "Tags"} <= set(focus)
    assert set(focus.values()) == {"string"}
    flags = dict(schemas[("app", "feature_flags")] or [])
    assert (flags["changed_at"], flags["enabled"]) == ("timestamp", "bool")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "22", ""], "INT64"),
        (["1", "2.5"], "FLOAT64"),
        (["true", "False"], "BOOL"),
        (["2026-01-05", ""], "DATE"),
        (["us-east1", "2"], "STRING"),
        (["", " "], "STRING"),
    ],
)
def test_seed_columns_without_column_types_are_inferred(values: list[str], expected: str) -> None:
    assert bq.infer_csv_type(values) == expected


def test_seed_schema_types_the_csv_header_by_column_types(tmp_path: Path) -> None:
    seed = tmp_path / "prices.csv"
    seed.write_text("Model,price,launched\ngpt,0.5,2026-01-01\n", encoding="utf-8")
    schema = bq.seed_schema(seed, {"model": "string", "price": "float64"})
    assert schema == [("Model", "string"), ("price", "float64"), ("launched", "DATE")]


# --- the catalog ----------------------------------------------------------------------------


def tiny_manifest(tmp_path: Path) -> dict[str, Any]:
    """A manifest with one seed and two sources, one of them with an untyped column."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "rates.csv").write_text("rate_id,cost\na,1.5\n", encoding="utf-8")
    return {
        "nodes": {
            "seed.x.rates": {
                "resource_type": "seed",
                "name": "rates",
                "alias": "rates",
                "database": "p",
                "schema": "feature_cost",
                "original_file_path": "seeds/rates.csv",
                "config": {"enabled": True, "column_types": {"cost": "float64"}},
            }
        },
        "sources": {
            "source.x.app.revenue": {
                "source_name": "app",
                "name": "revenue",
                "identifier": "revenue_v2",
                "database": "p",
                "schema": "app",
                "columns": {
                    "date_day": {"name": "date_day", "data_type": "date"},
                    "revenue": {"name": "revenue", "data_type": "numeric"},
                },
            },
            "source.x.app.unknown": {
                "source_name": "app",
                "name": "unknown",
                "identifier": "unknown",
                "database": "p",
                "schema": "app",
                "columns": {
                    "day": {"name": "day", "data_type": "date"},
                    "amount": {"name": "amount", "data_type": None},
                },
            },
            "source.x.app.misspelt": {
                "source_name": "app",
                "name": "misspelt",
                "identifier": "misspelt",
                "database": "p",
                "schema": "app",
                "columns": {"amount": {"name": "amount", "data_type": "double"}},
            },
        },
    }


@needs_zetasql
def test_declared_tables_come_from_seeds_and_source_schemas(tmp_path: Path) -> None:
    tables, missing = bq.declared_tables(tiny_manifest(tmp_path), tmp_path)
    rates = tables["seed.x.rates"]
    assert rates.relation == ("p", "feature_cost", "rates")
    assert [(n, bq.type_text(t)) for n, t in rates.columns] == [
        ("rate_id", "STRING"),
        ("cost", "FLOAT64"),
    ]
    # Typed by its YAML, read where the source points.
    revenue = tables["source.x.app.revenue"]
    assert revenue.relation == ("p", "app", "revenue_v2")
    assert [(n, bq.type_text(t)) for n, t in revenue.columns] == [
        ("date_day", "DATE"),
        ("revenue", "NUMERIC"),
    ]
    # A column without a data_type: no table, and the reason names the source.
    assert "source.x.app.unknown" not in tables
    assert "app.unknown" in missing["source.x.app.unknown"]
    assert "data_type" in missing["source.x.app.unknown"]
    # A DuckDB spelling: named, not a crash.
    assert "not a GoogleSQL type" in missing["source.x.app.misspelt"]


def test_models_are_ordered_after_what_they_read() -> None:
    models = [
        node("mart", "", "model.x.b", "model.x.a"),
        node("b", "", "model.x.a", "seed.x.s"),
        node("a", ""),
    ]
    assert [m.name for m in bq.dependency_order(models)] == ["a", "b", "mart"]


def test_output_columns_must_be_named_and_unique() -> None:
    assert bq.output_problem(["a", "b"]) is None
    assert "no name" in (bq.output_problem(["a", "$col2"]) or "")
    assert "duplicate" in (bq.output_problem(["a", "A"]) or "")


# --- the analyzer ---------------------------------------------------------------------------


@needs_zetasql
@pytest.mark.slow
def test_the_analyzer_accepts_googlesql_and_rejects_duckdb_sql() -> None:
    options = bq.analyzer_options()
    spans = bq.Table(("p", "otel", "spans"), bq.typed([("x", "INT64"), ("attrs", KV)]))
    good = (
        "select safe_cast('1' as bigint) as one, x,"
        " (select kv.value from unnest(attrs) as kv where kv.key = 'a') as a"
        " from `p`.`otel`.`spans`"
    )
    columns, error = bq.analyze(good, [spans], options)
    assert error is None
    assert [(n, bq.type_text(t)) for n, t in columns or []] == [
        ("one", "INT64"),
        ("x", "INT64"),
        ("a", "STRING"),
    ]
    for duckdb_only in [
        "select x::varchar as y from `p`.`otel`.`spans`",
        "select try_cast(x as int64) as y from `p`.`otel`.`spans`",
        "select list_filter(attrs, lambda kv: kv.key = 'a') as y from `p`.`otel`.`spans`",
        "select cast(x as double) as y from `p`.`otel`.`spans`",
        "select concat('a', x) as y from `p`.`otel`.`spans`",
        "select missing from `p`.`otel`.`spans`",
        "select x from `p`.`otel`.`other`",
    ]:
        assert bq.analyze(duckdb_only, [spans], options)[1] is not None, duckdb_only


@needs_zetasql
def test_errors_name_the_compiled_line() -> None:
    options = bq.analyzer_options()
    table = bq.Table(("p", "d", "t"), bq.typed([("x", "INT64")]))
    _, error = bq.analyze("select\n  x,\n  nope\nfrom `p`.`d`.`t`", [table], options)
    assert error is not None
    assert "nope" in error
    assert "line 3" in error


@needs_zetasql
def test_downstream_models_resolve_against_upstream_output_schemas() -> None:
    options = bq.analyzer_options()
    tables = {"seed.x.s": bq.Table(("p", "d", "s"), bq.typed([("n", "STRING")]))}
    upstream = node("up", "select n, length(n) as size from `p`.`d`.`s`", "seed.x.s")
    downstream = node("down", "select sum(size) as total from `p`.`d`.`up`", "model.x.up")
    wrong = node("wrong", "select upper(size) as s from `p`.`d`.`up`", "model.x.up")
    after_wrong = node("after", "select s from `p`.`d`.`wrong`", "model.x.wrong")
    verdicts = bq.check_models([after_wrong, wrong, downstream, upstream], tables, {}, options)
    by_name = {v.name: v for v in verdicts}
    assert by_name["up"].ok
    assert by_name["down"].ok
    assert [(n, bq.type_text(t)) for n, t in tables["model.x.down"].columns] == [("total", "INT64")]
    assert "UPPER" in (by_name["wrong"].zetasql_error or "").upper()
    assert by_name["after"].skipped_because == "upstream wrong failed"
    assert [v.name for v in verdicts][:2] == ["up", "down"]


# --- the whole project ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bigquery_check(tmp_path_factory: pytest.TempPathFactory) -> tuple[bq.Report, Path]:
    """The whole check (the slow part), once per module; its compile output kept in the path."""
    keep = tmp_path_factory.mktemp("bigquery") / "kept"
    return bq.check(PROJECT_ROOT, keep=keep), keep


def whole_project_check(test: Callable[..., None]) -> Callable[..., None]:
    """Marks a test of the whole project's check: BigQuery, needing ZetaSQL, and slow."""
    return pytest.mark.bigquery(needs_zetasql(pytest.mark.slow(test)))


@whole_project_check
def test_every_model_and_data_test_is_valid_googlesql_on_bigquery(
    bigquery_check: tuple[bq.Report, Path],
) -> None:
    """Offline compile for BigQuery, then sqlglot and ZetaSQL on everything."""
    report, keep = bigquery_check
    assert len(report.models) > 20, report.compile_output[-3000:]
    names = {v.name for v in report.models}
    # On BigQuery spans come from a table: the ClickHouse-layout base model, not the files.
    assert "base_otel__clickhouse_spans" in names
    assert "base_otel__spans" not in names
    assert report.tests
    spans = report.schemas["offline-project.feature_cost.base_otel__clickhouse_spans"]
    assert spans["span_attributes"] == KV
    assert (keep / "schemas.json").exists()
    problems = [v for v in [*report.models, *report.tests] if not v.ok]
    assert not problems, "\n".join(
        f"{v.name}: {v.sqlglot_error or v.zetasql_error or v.skipped_because}" for v in problems
    )


# Incremental span models, the day column their BigQuery partitions are on, their clustering.
BY_FEATURE = ["feature_id", "tenant_id"]
INCREMENTAL_SPAN_MODELS = {
    "int_spans_screened": ("start_day", ["trace_id"]),
    "int_spans_attributed": ("start_day", BY_FEATURE),
    "int_span_link_shares": ("start_day", ["trace_id"]),
    "int_span_days_priced": ("date_day", BY_FEATURE),
    "int_instance_hours": ("date_day", ["service_name", "instance_id"]),
    "int_span_costs_by_feature_day": ("date_day", BY_FEATURE),
}
# Marts partitioned by date_day, and their clustering (None: not clustered).
PARTITIONED_MARTS = {
    "feature_cost_margin": BY_FEATURE,
    "shared_cost_allocation": BY_FEATURE,
    "span_accounting": None,
}


@whole_project_check
def test_large_models_are_partitioned_by_day_and_clustered_on_bigquery(
    bigquery_check: tuple[bq.Report, Path],
) -> None:
    report, keep = bigquery_check
    manifest_path = keep / "target" / "manifest.json"
    assert manifest_path.exists(), report.compile_output[-3000:]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    configs = {
        node["name"]: node["config"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }

    def by_day(column: str) -> dict[str, Any]:
        return {"field": column, "data_type": "date", "granularity": "day"}

    for name, (day_column, cluster_by) in INCREMENTAL_SPAN_MODELS.items():
        config = configs[name]
        assert config["materialized"] == "incremental", name
        assert config["incremental_strategy"] == "insert_overwrite", name
        assert config["partition_by"] == by_day(day_column), name
        assert config["cluster_by"] == cluster_by, name
    for name, cluster_by in PARTITIONED_MARTS.items():
        assert configs[name]["partition_by"] == by_day("date_day"), name
        assert configs[name].get("cluster_by") == cluster_by, name


def bigquery_credentials(**env: str) -> list[Any]:
    """The committed profile's bigquery credentials as dbt reads them, with only ``env`` of
    the ``FEATURE_COST_BQ_*`` variables set (read in this process: dbt renders a profile
    from the invocation context's environment, not from ``os.environ``)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEATURE_COST_BQ_")}
    flags = get_flags()
    set_from_args(Namespace(), None)
    set_invocation_context({**clean, **env})
    try:
        profile = Profile.from_raw_profiles(
            read_profile(str(PROJECT_ROOT)),
            "feature_cost",
            renderer=ProfileRenderer({}),
            target_override="bigquery",
        )
    finally:  # what this process's other dbt calls read is put back
        set_invocation_context(os.environ)
        set_flags(flags)
    credentials: Any = profile.credentials
    return [credentials.method, credentials.api_endpoint, credentials.token]


def test_the_profile_points_at_a_bigquery_emulator_from_the_environment() -> None:
    """An emulator's URL and a token come from the environment; by default neither is set,
    so the client uses Google's endpoint and the method's own credentials."""
    method, endpoint, token = bigquery_credentials(
        FEATURE_COST_BQ_API_ENDPOINT="http://localhost:9050",
        FEATURE_COST_BQ_METHOD="oauth-secrets",
        FEATURE_COST_BQ_TOKEN="emulator",
    )
    assert (method, endpoint, token) == ("oauth-secrets", "http://localhost:9050", "emulator")
    method, endpoint, token = bigquery_credentials()
    assert method == "oauth"
    assert not endpoint
    assert not token
