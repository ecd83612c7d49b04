"""Prove the BigQuery path offline: compile every model for BigQuery and check it as GoogleSQL.

A development tool (`make check-bigquery`, and the BigQuery module of the test suite): it needs
the development packages (sqlglot, zetasql, dbt-bigquery), which `feature-cost` does not.
Run it from the project folder: `python tools/bigquery_check.py [--keep DIR]`.

No credentials and no network: dbt compiles against the `bigquery` target with a throwaway
service-account key (a fresh RSA key for a project that does not exist) and
`--no-populate-cache --no-introspect`, so it never calls Google. Then two checks run on the
compiled SQL:

1. sqlglot parses every model and data test with its BigQuery dialect (syntax only);
2. ZetaSQL, Google's GoogleSQL analyzer (the `zetasql` package, compiled to WebAssembly),
   analyzes every model in dependency order against a catalog: the sources' columns typed
   by their `data_type` in the sources YAML, the seeds typed by their `column_types`, and each
   upstream model's output schema as ZetaSQL itself resolved it. This resolves every name,
   type and function the way BigQuery does, so a column that does not exist, a DuckDB-only
   function or a type mismatch fails here instead of in a BigQuery job. The data tests are
   then analyzed against the finished catalog.

Exit code 0 when every model and data test passes both checks, 1 otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zetasql.types import AnalyzerOptions, SimpleCatalog, SimpleTable, Type

OFFLINE_PROJECT = "offline-project"

# GoogleSQL type names, and the aliases BigQuery accepts in SQL or in a load job's schema
# (seed `column_types` go to one unchanged) -> ZetaSQL TypeKind member names.
SIMPLE_TYPES: dict[str, str] = {
    "STRING": "TYPE_STRING",
    "BYTES": "TYPE_BYTES",
    "INT64": "TYPE_INT64",
    "INT": "TYPE_INT64",
    "INTEGER": "TYPE_INT64",
    "BIGINT": "TYPE_INT64",
    "SMALLINT": "TYPE_INT64",
    "TINYINT": "TYPE_INT64",
    "BYTEINT": "TYPE_INT64",
    "FLOAT64": "TYPE_DOUBLE",
    "FLOAT": "TYPE_DOUBLE",
    "BOOL": "TYPE_BOOL",
    "BOOLEAN": "TYPE_BOOL",
    "NUMERIC": "TYPE_NUMERIC",
    "DECIMAL": "TYPE_NUMERIC",
    "BIGNUMERIC": "TYPE_BIGNUMERIC",
    "BIGDECIMAL": "TYPE_BIGNUMERIC",
    "DATE": "TYPE_DATE",
    "DATETIME": "TYPE_DATETIME",
    "TIME": "TYPE_TIME",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "JSON": "TYPE_JSON",
    "INTERVAL": "TYPE_INTERVAL",
    "GEOGRAPHY": "TYPE_GEOGRAPHY",
}

# The canonical GoogleSQL spelling of each TypeKind, for messages and the kept schemas.
CANONICAL_NAMES: dict[str, str] = {
    "TYPE_STRING": "STRING",
    "TYPE_BYTES": "BYTES",
    "TYPE_INT64": "INT64",
    "TYPE_DOUBLE": "FLOAT64",
    "TYPE_BOOL": "BOOL",
    "TYPE_NUMERIC": "NUMERIC",
    "TYPE_BIGNUMERIC": "BIGNUMERIC",
    "TYPE_DATE": "DATE",
    "TYPE_DATETIME": "DATETIME",
    "TYPE_TIME": "TIME",
    "TYPE_TIMESTAMP": "TIMESTAMP",
    "TYPE_JSON": "JSON",
    "TYPE_INTERVAL": "INTERVAL",
    "TYPE_GEOGRAPHY": "GEOGRAPHY",
}

# Integer type aliases BigQuery accepts in CAST and DDL that ZetaSQL's external mode does not
# know by itself; the catalog declares them as named types.
INT64_ALIASES = ("INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT")

# ZetaSQL's maximum feature set, minus language features BigQuery does not have (ZetaSQL has
# no BigQuery preset; this list is the known difference, not a proof of equality).
FEATURES_BIGQUERY_LACKS = frozenset(
    {
        "FEATURE_TIMESTAMP_NANOS",
        "FEATURE_TIMESTAMP_PICOS",
        "FEATURE_TIMESTAMP_PRECISION",
        "FEATURE_UUID_TYPE",
        "FEATURE_LATERAL_JOIN",
        "FEATURE_MULTIWAY_UNNEST",
        "FEATURE_ARRAY_ZIP",
        "FEATURE_ARRAY_EQUALITY",
        "FEATURE_ARRAY_ORDERING",
        "FEATURE_CONCAT_MIXED_TYPES",
        "FEATURE_MULTILEVEL_AGGREGATION",
        "FEATURE_AGGREGATE_FILTERING",
        "FEATURE_ARRAY_FIND_FUNCTIONS",
        "FEATURE_INLINE_LAMBDA_ARGUMENT",
        "FEATURE_SAFE_FUNCTION_CALL_WITH_LAMBDA_ARGS",
        "FEATURE_NULLIFZERO_ZEROIFNULL",
        "FEATURE_WITH_EXPRESSION",
        "FEATURE_TYPEOF_FUNCTION",
        "FEATURE_ENABLE_MEASURES",
        "FEATURE_EXPERIMENTAL_MODULES",
    }
)

NAME_WIDTH = 64

ERROR_LOCATION = re.compile(r"\[at (\d+):(\d+)\]")
TYPE_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*|<|>|,|\(|\)|\d+)")


@dataclass(frozen=True)
class CompiledNode:
    """A compiled model or data test: where it lands in BigQuery and what it reads."""

    unique_id: str
    name: str
    sql: str
    relation: tuple[str, str, str]
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """The result of both checks on one compiled model or data test."""

    name: str
    sqlglot_error: str | None
    zetasql_error: str | None = None
    skipped_because: str | None = None

    @property
    def failed(self) -> bool:
        """True when either check found a problem in this node itself."""
        return self.sqlglot_error is not None or self.zetasql_error is not None

    @property
    def ok(self) -> bool:
        """True when both checks passed."""
        return (
            self.sqlglot_error is None
            and self.zetasql_error is None
            and self.skipped_because is None
        )


@dataclass
class Report:
    """Everything the check found, for printing and for tests."""

    models: list[Verdict] = field(default_factory=list)
    tests: list[Verdict] = field(default_factory=list)
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    compile_output: str = ""
    zetasql_missing: str | None = None
    # Every table the analysis knew at its end (sources, seeds, models), by unique id.
    tables: dict[str, Table] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the project compiled and every model and data test passed."""
        return (
            bool(self.models)
            and self.zetasql_missing is None
            and all(v.ok for v in [*self.models, *self.tests])
        )


# --- offline compile ------------------------------------------------------------------------


def throwaway_key(path: Path) -> Path:
    """Write a service-account key with a fresh RSA key; it opens no door anywhere."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = {
        "type": "service_account",
        "project_id": OFFLINE_PROJECT,
        "private_key_id": "0",
        "private_key": pem,
        "client_email": f"offline@{OFFLINE_PROJECT}.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(account), encoding="utf-8")
    return path


# The incremental span models compile differently on a run that rebuilds a window of days
# (macros/incremental/day_window.sql). Offline there is no table to ask for its latest day, so the
# second compile fixes the window: a backfill-shaped one, bounded on both sides.
# The first compile fixes the window to "everything", as a first build or --full-refresh.
FULL_BUILD_WINDOW: dict[str, str | None] = {"start": None, "end": None}
INCREMENTAL_WINDOW: dict[str, str | None] = {"start": "2026-01-10", "end": "2026-01-12"}
INCREMENTAL_SUFFIX = " (incremental run)"


@dataclass(frozen=True)
class Compile:
    """One offline compile: the folder dbt writes to, the day window, the nodes (all if none)."""

    out: Path
    window: Mapping[str, str | None] = field(default_factory=lambda: dict(FULL_BUILD_WINDOW))
    select: Sequence[str] = ()


def compile_for_bigquery(
    project_dir: Path, keyfile: Path, compiles: Sequence[Compile]
) -> list[tuple[bool, str]]:
    """dbt compile for the bigquery target, offline, once per `compiles` item; for each,
    (succeeded, what dbt logged).

    dbt runs in this process and parses the project once (again for each compile when a model
    is ephemeral): the compiles differ only in the day window (`window`, see
    INCREMENTAL_WINDOW), which the models read when they are compiled, not when they are
    parsed. A compile that fails leaves the ones after it out.
    """
    from dbt.adapters.factory import reset_adapters
    from dbt.cli.main import dbtRunner
    from dbt_common.events.base_types import EventMsg

    environment = {
        "DBT_PROFILES_DIR": str(project_dir),
        "FEATURE_COST_TARGET": "bigquery",
        "FEATURE_COST_BQ_METHOD": "service-account",
        "FEATURE_COST_BQ_KEYFILE": str(keyfile),
        "FEATURE_COST_BQ_PROJECT": OFFLINE_PROJECT,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    results: list[tuple[bool, str]] = []
    manifest = None
    try:
        for item in compiles:
            lines: list[str] = []

            def keep(event: EventMsg, lines: list[str] = lines) -> None:
                message = getattr(event.info, "msg", "")  # a protobuf field the stubs lack
                if event.info.level in {"info", "warn", "error"} and message:
                    lines.append(message)

            dbt_vars = {"span_source": "clickhouse_table", "day_window_override": dict(item.window)}
            common = [
                "--project-dir",
                str(project_dir),
                "--target-path",
                str(item.out / "target"),
                "--log-path",
                str(item.out / "logs"),
                "--vars",
                json.dumps(dbt_vars),
            ]
            if manifest is None:
                parsed = dbtRunner(callbacks=[keep]).invoke(["parse", *common])
                if not parsed.success:
                    results.append((False, "\n".join(lines) + f"\n{parsed.exception!r}"))
                    break
                manifest = parsed.result
            command = [
                "compile",
                "--no-populate-cache",
                "--no-introspect",
                *common,
                *(["--select", *item.select] if item.select else []),
                "--exclude",
                "resource_type:unit_test",
            ]
            done = dbtRunner(manifest=manifest, callbacks=[keep]).invoke(command)
            # A compile marks each node's CTEs as injected: a later compile on the same parse
            # would keep an ephemeral model's first SQL, so with one the next compile parses.
            if any(node.config.materialized == "ephemeral" for node in manifest.nodes.values()):
                manifest = None
            output = "\n".join(lines) + ("" if done.success else f"\n{done.exception!r}")
            results.append((done.success, output))
            if not done.success:
                break
    finally:
        reset_adapters()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return results


# --- the manifest ---------------------------------------------------------------------------


def relation_parts(node: Mapping[str, Any]) -> tuple[str, str, str]:
    """(project, dataset, table) of a manifest node or source, lower-cased as BigQuery matches."""
    table = node.get("alias") or node.get("identifier") or node["name"]
    return (node["database"].lower(), node["schema"].lower(), table.lower())


def compiled_sql(node: Mapping[str, Any], target: Path) -> str | None:
    """The compiled SQL of a manifest node, from the manifest or from target/compiled."""
    if node.get("compiled_code"):
        return str(node["compiled_code"])
    path = target / "compiled" / node["package_name"] / node["original_file_path"]
    return path.read_text(encoding="utf-8") if path.exists() else None


def compiled_nodes(manifest: Mapping[str, Any], target: Path, kind: str) -> list[CompiledNode]:
    """Every enabled, compiled node of one resource type ("model" or "test")."""
    nodes = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != kind or not node.get("config", {}).get("enabled", True):
            continue
        sql = compiled_sql(node, target)
        if sql is None:
            continue
        nodes.append(
            CompiledNode(
                unique_id=unique_id,
                name=node["name"],
                sql=sql,
                relation=relation_parts(node),
                depends_on=tuple(node.get("depends_on", {}).get("nodes", [])),
            )
        )
    return sorted(nodes, key=lambda n: n.name)


def dependency_order(models: Sequence[CompiledNode]) -> list[CompiledNode]:
    """Models ordered so that each comes after every model it reads (ties by name)."""
    by_id = {m.unique_id: m for m in models}
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for model in models:
        sorter.add(model.unique_id, *(d for d in model.depends_on if d in by_id))
    sorter.prepare()
    ordered: list[CompiledNode] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda i: by_id[i].name)
        ordered.extend(by_id[i] for i in ready)
        sorter.done(*ready)
    return ordered


# --- types ----------------------------------------------------------------------------------


def parse_type(text: str) -> Type:
    """A ZetaSQL Type from GoogleSQL type text, e.g. `ARRAY<STRUCT<key STRING, value INT64>>`.

    Parameters such as `NUMERIC(18, 6)` or `STRING(10)` are accepted and dropped.
    """
    tokens = tokenize_type(text)
    parsed, rest = _parse_type_tokens(tokens)
    if rest:
        raise ValueError(f"unexpected {' '.join(rest)!r} after a type in {text!r}")
    return parsed


def tokenize_type(text: str) -> list[str]:
    """Split type text into names, numbers and the punctuation `< > , ( )`."""
    tokens: list[str] = []
    position = 0
    while position < len(text.rstrip()):
        match = TYPE_TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read a type from {text!r} at {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _expect(tokens: list[str], token: str) -> list[str]:
    if not tokens or tokens[0] != token:
        raise ValueError(f"expected {token!r}, found {tokens[0] if tokens else 'the end'!r}")
    return tokens[1:]


def _parse_type_tokens(tokens: list[str]) -> tuple[Type, list[str]]:
    from zetasql.api import TypeFactory
    from zetasql.types import TypeKind

    if not tokens:
        raise ValueError("expected a type, found the end")
    name, rest = tokens[0].upper(), tokens[1:]
    if name == "ARRAY":
        element, rest = _parse_type_tokens(_expect(rest, "<"))
        return TypeFactory.create_array_type(element), _expect(rest, ">")
    if name == "STRUCT":
        rest = _expect(rest, "<")
        fields: list[tuple[str, Type]] = []
        while True:
            if not rest:
                raise ValueError("unterminated STRUCT<...>")
            field_name, (field_type, rest) = rest[0], _parse_type_tokens(rest[1:])
            fields.append((field_name, field_type))
            if rest[:1] == [","]:
                rest = rest[1:]
                continue
            return TypeFactory.create_struct_type(fields), _expect(rest, ">")
    if name not in SIMPLE_TYPES:
        raise ValueError(f"unknown GoogleSQL type {tokens[0]!r}")
    if rest[:1] == ["("]:
        rest = rest[rest.index(")") + 1 :]
    return TypeFactory.create_simple_type(TypeKind[SIMPLE_TYPES[name]]), rest


def type_text(type_: Type) -> str:
    """GoogleSQL text of a ZetaSQL Type (the inverse of `parse_type`)."""
    from zetasql.types import TypeKind

    kind = TypeKind(type_.type_kind)
    if kind == TypeKind.TYPE_ARRAY:
        return f"ARRAY<{type_text(type_.array_type.element_type)}>"
    if kind == TypeKind.TYPE_STRUCT:
        fields = ", ".join(
            f"{f.field_name} {type_text(f.field_type)}" for f in type_.struct_type.field
        )
        return f"STRUCT<{fields}>"
    return CANONICAL_NAMES.get(kind.name, kind.name.removeprefix("TYPE_"))


def infer_csv_type(values: Iterable[str]) -> str:
    """The GoogleSQL type dbt-bigquery gives a seed column that has no `column_types` entry."""
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "STRING"
    if all(re.fullmatch(r"[-+]?\d+", v) for v in present):
        return "INT64"
    if all(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", v) for v in present):
        return "FLOAT64"
    if all(v.lower() in ("true", "false") for v in present):
        return "BOOL"
    try:
        for value in present:
            date.fromisoformat(value)
    except ValueError:
        return "STRING"
    return "DATE"


def seed_schema(csv_path: Path, column_types: Mapping[str, str]) -> list[tuple[str, str]]:
    """(column, GoogleSQL type) of a seed: its CSV header typed by `column_types`.

    A column without an entry gets the type inferred from its values, as dbt does.
    """
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{csv_path} has no header")
    header, values = rows[0], rows[1:]
    overrides = {k.lower(): v for k, v in column_types.items()}
    schema = []
    for index, column in enumerate(header):
        declared = overrides.get(column.lower())
        if declared is None:
            declared = infer_csv_type(row[index] for row in values if index < len(row))
        schema.append((column, declared))
    return schema


# --- the catalog ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table the analyzer can read: its BigQuery path and typed columns."""

    relation: tuple[str, str, str]
    columns: list[tuple[str, Type]]


def typed(columns: Sequence[tuple[str, str]]) -> list[tuple[str, Type]]:
    """Columns with their type text parsed into ZetaSQL Types."""
    return [(name, parse_type(text)) for name, text in columns]


def declared_tables(
    manifest: Mapping[str, Any], project_dir: Path
) -> tuple[dict[str, Table], dict[str, str]]:
    """By unique id, the tables of every seed and source; and why a source has none."""
    tables: dict[str, Table] = {}
    missing: dict[str, str] = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "seed" and node.get("config", {}).get("enabled", True):
            column_types = node.get("config", {}).get("column_types") or {}
            schema = seed_schema(project_dir / node["original_file_path"], column_types)
            tables[unique_id] = Table(relation_parts(node), typed(schema))
    for unique_id, source in manifest["sources"].items():
        name = f"source {source['source_name']}.{source['name']}"
        declared = source_schema(source)
        if declared is None:
            missing[unique_id] = (
                f"{name} has no BigQuery schema: give each of its columns a data_type in its"
                " sources YAML"
            )
            continue
        try:
            tables[unique_id] = Table(relation_parts(source), typed(declared))
        except ValueError as error:
            missing[unique_id] = f"{name}: a data_type is not a GoogleSQL type ({error})"
    return tables, missing


def source_schema(source: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """A source's columns and their GoogleSQL types, as its YAML declares them (`data_type`);
    None unless it declares columns and every one has a type."""
    columns = [(name, column.get("data_type")) for name, column in source["columns"].items()]
    if not columns or any(not data_type for _, data_type in columns):
        return None
    return [(name, str(data_type)) for name, data_type in columns]


def simple_table(name: str, columns: Sequence[tuple[str, Type]]) -> SimpleTable:
    """A ZetaSQL table with these columns."""
    from zetasql.api import TableBuilder

    builder = TableBuilder(name)
    for column, type_ in columns:
        builder.add_column(column, type_)
    return builder.build()


def build_catalog(tables: Iterable[Table], options: AnalyzerOptions) -> SimpleCatalog:
    """A root catalog holding project -> dataset -> table, as BigQuery paths name them."""
    from zetasql.types import SimpleCatalog, ZetaSQLBuiltinFunctionOptions

    projects: dict[str, dict[str, dict[str, SimpleTable]]] = {}
    for table in tables:
        project, dataset, name = table.relation
        datasets = projects.setdefault(project, {})
        datasets.setdefault(dataset, {})[name] = simple_table(name, table.columns)
    int64 = parse_type("INT64")
    return SimpleCatalog(
        name="bigquery",
        catalog=[
            SimpleCatalog(
                name=project,
                catalog=[
                    SimpleCatalog(name=dataset, table=list(by_name.values()))
                    for dataset, by_name in sorted(datasets.items())
                ],
            )
            for project, datasets in sorted(projects.items())
        ],
        named_type=[SimpleCatalog.NamedType(name=alias, type=int64) for alias in INT64_ALIASES],
        builtin_function_options=ZetaSQLBuiltinFunctionOptions(
            language_options=options.language_options
        ),
    )


def analyzer_options() -> AnalyzerOptions:
    """GoogleSQL as BigQuery speaks it: external product mode, BigQuery's language features."""
    from zetasql.types import (
        AnalyzerOptions,
        ErrorMessageMode,
        LanguageFeature,
        LanguageOptions,
        ProductMode,
    )

    language = LanguageOptions.maximum_features()
    language.product_mode = ProductMode.PRODUCT_EXTERNAL
    language.enabled_language_features = [
        f
        for f in language.enabled_language_features
        if LanguageFeature(f).name not in FEATURES_BIGQUERY_LACKS
    ]
    return AnalyzerOptions(
        language_options=language,
        error_message_mode=ErrorMessageMode.ERROR_MESSAGE_ONE_LINE,
        default_timezone="UTC",
    )


# --- the two checks -------------------------------------------------------------------------


def sqlglot_error(sql: str) -> str | None:
    """None when sqlglot parses the SQL as BigQuery; else the first line of the error."""
    import sqlglot

    try:
        sqlglot.parse_one(sql, read="bigquery")
    except Exception as error:  # sqlglot raises several error types
        return str(error).splitlines()[0][:300]
    return None


def error_text(error: Exception, sql: str) -> str:
    """One line from an analyzer error: the message, the argument types, the compiled line."""
    raw = str(getattr(error, "raw_error", None) or error)
    raw = re.sub(r"^(Code: \d+, Message: |\[[A-Z_]+\] )", "", raw)
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    parts = [ERROR_LOCATION.sub("", lines[0]).strip()] if lines else [type(error).__name__]
    parts += [line for line in lines[1:] if line.startswith("Argument types:")][:1]
    location = ERROR_LOCATION.search(raw)
    if location is not None:
        line_number = int(location.group(1))
        source = sql.splitlines()
        parts.append(f"line {line_number}")
        if 1 <= line_number <= len(source):
            parts.append(source[line_number - 1].strip()[:160])
    return " | ".join(parts)


def analyze(
    sql: str, tables: Iterable[Table], options: AnalyzerOptions
) -> tuple[list[tuple[str, Type]] | None, str | None]:
    """Analyze one query against these tables: (output columns, None) or (None, the error).

    The analyzer's answer is read as the protobuf it arrives in: only the output columns are
    turned into Python types, not the whole resolved tree (most of the time of a check).
    """
    from zetasql.core.exceptions import ZetaSQLError
    from zetasql.core.local_service import ZetaSqlLocalService
    from zetasql.types import AnalyzeRequest
    from zetasql.types.proto_model.proto_model import parse_proto
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2

    request = AnalyzeRequest(
        sql_statement=sql, options=options, simple_catalog=build_catalog(tables, options)
    )
    try:
        response = ZetaSqlLocalService.get_instance().wasm_client.call_grpc_func(
            "ZetaSqlLocalService_Analyze", request.to_proto(), local_service_pb2.AnalyzeResponse
        )
    except ZetaSQLError as error:
        return None, error_text(error, sql)
    statement = response.resolved_statement
    node = getattr(statement, statement.WhichOneof("node"))
    columns = [(c.name, parse_proto(c.column.type)) for c in node.output_column_list]
    problem = output_problem([name for name, _ in columns])
    return (None, problem) if problem else (columns, None)


def output_problem(names: Sequence[str]) -> str | None:
    """Why BigQuery would refuse these column names for a table or view, if it would."""
    unnamed = [str(i + 1) for i, name in enumerate(names) if not name or name.startswith("$")]
    if unnamed:
        return f"output column(s) {', '.join(unnamed)} have no name; BigQuery needs an alias"
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            return f"duplicate output column {name!r}; BigQuery needs unique column names"
        seen.add(name.lower())
    return None


def blocked_by(node: CompiledNode, unavailable: Mapping[str, str]) -> str | None:
    """Why a node cannot be analyzed (something it reads has no table), or None."""
    reasons = [unavailable[d] for d in node.depends_on if d in unavailable]
    return reasons[0] if reasons else None


def check_models(
    models: Sequence[CompiledNode],
    tables: dict[str, Table],
    unavailable: dict[str, str],
    options: AnalyzerOptions,
    previous: Mapping[str, Table] | None = None,
) -> list[Verdict]:
    """Analyze models in dependency order, each against the tables it reads.

    Each analyzed model's output schema joins `tables`; a model that fails (or reads one that
    did) joins `unavailable`, so its dependents are reported as not analyzed. `previous`: the
    tables of a first build, for an incremental run's models that read their own table.
    """
    verdicts = []
    for model in dependency_order(models):
        parse_error = sqlglot_error(model.sql)
        blocked = blocked_by(model, unavailable)
        if blocked is not None:
            unavailable[model.unique_id] = blocked
            verdicts.append(Verdict(model.name, parse_error, skipped_because=blocked))
            continue
        reads = [tables[d] for d in model.depends_on if d in tables]
        if previous is not None and model.unique_id in previous:
            reads.append(previous[model.unique_id])
        columns, error = analyze(model.sql, reads, options)
        if columns is None:
            unavailable[model.unique_id] = f"upstream {model.name} failed"
        else:
            tables[model.unique_id] = Table(model.relation, columns)
        verdicts.append(Verdict(model.name, parse_error, error))
    return verdicts


def check_tests(
    tests: Sequence[CompiledNode],
    tables: Mapping[str, Table],
    unavailable: Mapping[str, str],
    options: AnalyzerOptions,
) -> list[Verdict]:
    """Parse and analyze every data test against the tables it reads."""
    verdicts = []
    for test in tests:
        parse_error = sqlglot_error(test.sql)
        blocked = blocked_by(test, unavailable)
        if blocked is not None:
            verdicts.append(Verdict(test.name, parse_error, skipped_because=blocked))
            continue
        reads = [tables[d] for d in test.depends_on if d in tables]
        _, error = analyze(test.sql, reads, options)
        verdicts.append(Verdict(test.name, parse_error, error))
    return verdicts


def zetasql_missing() -> str | None:
    """None when the GoogleSQL analyzer can be imported; else why not."""
    try:
        import zetasql.api  # noqa: F401
    except ImportError as error:
        return f"the zetasql package is not installed ({error})"
    return None


def parsed_only(nodes: Iterable[CompiledNode]) -> list[Verdict]:
    """Verdicts of the sqlglot parse alone, for when ZetaSQL cannot be imported."""
    return [Verdict(node.name, sqlglot_error(node.sql)) for node in nodes]


def check_compiled(project_dir: Path, out: Path, output: str) -> Report:
    """Both checks on a finished offline compile in `out`."""
    target = out / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    models = compiled_nodes(manifest, target, "model")
    tests = compiled_nodes(manifest, target, "test")
    report = Report(compile_output=output, zetasql_missing=zetasql_missing())
    if report.zetasql_missing is not None:
        report.models = parsed_only(models)
        report.tests = parsed_only(tests)
        return report
    options = analyzer_options()
    tables, unavailable = declared_tables(manifest, project_dir)
    report.models = check_models(models, tables, unavailable, options)
    report.tests = check_tests(tests, tables, unavailable, options)
    report.tables = tables
    report.schemas = {
        ".".join(table.relation): {name: type_text(t) for name, t in table.columns}
        for table in sorted(tables.values(), key=lambda t: t.relation)
    }
    return report


def incremental_verdicts(
    full_out: Path, incremental_out: Path, full_tables: Mapping[str, Table]
) -> list[Verdict]:
    """Verdicts of the incremental compile for the models whose SQL differs from a full build.

    Those models read the tables of the full build (`full_tables`), and a model that reads
    its own table, as screening does, reads it as the full build left it. Without ZetaSQL
    only sqlglot checks them.
    """
    full = json.loads((full_out / "target" / "manifest.json").read_text(encoding="utf-8"))
    full_sql = {n.unique_id: n.sql for n in compiled_nodes(full, full_out / "target", "model")}
    manifest = json.loads(
        (incremental_out / "target" / "manifest.json").read_text(encoding="utf-8")
    )
    changed = [
        node
        for node in compiled_nodes(manifest, incremental_out / "target", "model")
        if full_sql.get(node.unique_id) != node.sql
    ]
    if zetasql_missing() is not None:
        verdicts = parsed_only(changed)
    else:
        tables = dict(full_tables)
        verdicts = check_models(changed, tables, {}, analyzer_options(), full_tables)
    return [replace(verdict, name=verdict.name + INCREMENTAL_SUFFIX) for verdict in verdicts]


def check(project_dir: Path, keep: Path | None = None) -> Report:
    """Compile offline for BigQuery and run both checks; keep the compile output in `keep`."""
    with tempfile.TemporaryDirectory(prefix="bigquery-check-") as name:
        work = Path(name)
        out = keep.resolve() if keep is not None else work
        out.mkdir(parents=True, exist_ok=True)
        keyfile = throwaway_key(work / "offline-key.json")
        # The incremental models compiled as an incremental run too (only they read the day
        # window): those whose SQL differs are checked again, under their name with a suffix.
        incremental_out = out / "incremental"
        compiled = compile_for_bigquery(
            project_dir,
            keyfile,
            [
                Compile(out),
                Compile(
                    incremental_out,
                    INCREMENTAL_WINDOW,
                    ["+config.materialized:incremental,resource_type:model"],
                ),
            ],
        )
        succeeded, output = compiled[0]
        if not succeeded:
            return Report(compile_output=output)
        report = check_compiled(project_dir, out, output)
        succeeded, output = compiled[1]  # the first compile succeeded, so the second ran
        if not succeeded:
            report.models.append(
                Verdict("(project)" + INCREMENTAL_SUFFIX, None, "did not compile: " + output[-600:])
            )
        else:
            report.models.extend(incremental_verdicts(out, incremental_out, report.tables))
    if keep is not None and report.schemas:
        (keep / "schemas.json").write_text(json.dumps(report.schemas, indent=2), encoding="utf-8")
    return report


# --- output ---------------------------------------------------------------------------------


def status(verdict: Verdict, analyzed: bool) -> tuple[str, str, str]:
    """(sqlglot, zetasql, detail) cells of one table row."""
    parsed = "ok" if verdict.sqlglot_error is None else "FAIL"
    if not analyzed:
        return parsed, "-", verdict.sqlglot_error or ""
    if verdict.skipped_because is not None:
        return parsed, "skip", verdict.skipped_because
    if verdict.zetasql_error is not None:
        return parsed, "FAIL", verdict.zetasql_error
    return parsed, "ok", verdict.sqlglot_error or ""


def shortened(name: str) -> str:
    """A name cut to the table's name column."""
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 3] + "..."


def print_table(title: str, verdicts: Sequence[Verdict], analyzed: bool, only_failed: bool) -> None:
    """A table of verdicts: name, sqlglot, zetasql and the first error."""
    rows = [v for v in verdicts if not (only_failed and v.ok)]
    if not rows:
        return
    width = max(len(title), *(len(shortened(v.name)) for v in rows))
    print(f"{title:<{width}}  sqlglot  zetasql  first error")
    for verdict in rows:
        parsed, resolved, detail = status(verdict, analyzed)
        name = shortened(verdict.name)
        print(f"{name:<{width}}  {parsed:<7}  {resolved:<7}  {detail}".rstrip())


def summary(report: Report) -> str:
    """The one-line verdict."""
    models, tests = report.models, report.tests
    parts = [
        f"{len(models)} models compiled",
        f"{sum(v.sqlglot_error is None for v in models)} parsed",
    ]
    if report.zetasql_missing is None:
        analyzed = sum(v.zetasql_error is None and v.skipped_because is None for v in models)
        parts.append(f"{analyzed} analyzed")
    parts.append(f"{sum(v.failed for v in models)} failed")
    if report.zetasql_missing is None:
        parts.append(f"{sum(v.skipped_because is not None for v in models)} not analyzed")
    tests_passed = sum(not v.failed if report.zetasql_missing else v.ok for v in tests)
    return (
        "bigquery check: "
        + ", ".join(parts)
        + f"; data tests: {tests_passed} of {len(tests)} passed"
    )


def main(project_dir: Path, keep: Path | None = None) -> int:
    """CLI entry: print the per-model table and a summary line; exit 1 when anything fails."""
    report = check(project_dir, keep)
    if not report.models:
        print(report.compile_output[-4000:], file=sys.stderr)
        print("bigquery check: the project does not compile for BigQuery", file=sys.stderr)
        return 1
    analyzed = report.zetasql_missing is None
    print_table("model", report.models, analyzed, only_failed=False)
    print_table("data test", report.tests, analyzed, only_failed=True)
    if report.zetasql_missing is not None:
        print(
            f"GoogleSQL analysis did not run: {report.zetasql_missing}; install the dev"
            " dependencies (`make install`)",
            file=sys.stderr,
        )
    if keep is not None:
        print(f"compiled SQL, manifest and resolved schemas kept in {keep}")
    print(summary(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the compiled SQL, manifest and resolved schemas (schemas.json) in DIR",
    )
    sys.exit(main(Path.cwd(), parser.parse_args().keep))
