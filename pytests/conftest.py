"""Shared fixtures: run dbt (in this process) against a throw-away DuckDB file.

``run_dbt`` is a plain function any test module imports (``from conftest import
run_dbt``). ``demo_build`` generates a small deterministic demo data set and builds the whole
project on it once per run (the pytest workers share it).
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pickle
import shutil
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    # dbt is imported where it runs: pytest-xdist's controller, which runs no test, loads this
    # file before it starts the workers (dbt's import is ~1.5 s of that).
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = PROJECT_ROOT / "seeds"
TAIL_LINES = 60

# The suite builds on the demo's reference seeds (seeds/, written for DEMO_CONFIG's days), never
# a demo `make data` wrote nor a folder the shell names, and reads the marts where the project
# puts them by default; a test that wants otherwise sets it. (Before feature_cost is imported:
# it reads them.)
os.environ["FEATURE_COST_SEEDS"] = "seeds"
os.environ.pop("FEATURE_COST_MARTS_SCHEMA", None)

# The demo generator lives in src/; make it importable when the package is not installed.
if str(PROJECT_ROOT / "src") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "src"))

from feature_cost.demo import DemoConfig, GeneratedDemo, generate  # noqa: E402

DEMO_CONFIG = DemoConfig(seed=11, days=3, requests_per_day=200, start_date=date(2026, 1, 5))
# The session's demo also writes its spans in the ClickHouse exporter's Parquet layout.
SESSION_DEMO_CONFIG = replace(DEMO_CONFIG, clickhouse_parquet=True)

# A build that only feeds a comparison: seeds and models, no data or unit tests.
BUILD_WITHOUT_TESTS = ("build", "--exclude-resource-type", "test", "unit_test")

# What every in-process dbt command runs with: no usage stats sent, no colour codes in lines.
_DBT_QUIET = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
# Parsed manifests by everything parsing depends on (see ``_manifest_key``); a few at a time.
_MANIFESTS: OrderedDict[tuple[object, ...], _Parse] = OrderedDict()
_MANIFESTS_KEPT = 6
# The input paths: dbt renders them into the sources' SQL when it parses (dbt-duckdb's
# `external_location`, and the `relation_name` it makes of it), and reads them nowhere else at
# parse time (``_input_fields`` checks). A parse is shared by runs on inputs in other folders:
# each path's folder is parsed as a placeholder of its own and put back in the sources.
INPUT_PATH_VARS = (
    "otlp_path",
    "revenue_path",
    "feature_flags_path",
    "focus_billing_path",
    "clickhouse_spans_path",
)
_INPUT_FOLDER = "/__feature_cost_test_input__"
# The environment variables dbt_project.yml reads at parse time (the seeds' folder, the marts'
# schema).
_PARSED_ENVIRONMENT = ("FEATURE_COST_SEEDS", "FEATURE_COST_MARTS_SCHEMA")
# Where a parsed source holds its location, as attribute or key paths.
_SOURCE_FIELDS = (
    ("meta", "external_location"),
    ("config", "meta", "external_location"),
    ("unrendered_config", "meta", "external_location"),
    ("relation_name",),
)
# The project's own folders dbt parses; a change to any file in them means a new parse.
_PARSED_FOLDERS = ("models", "macros", "seeds", "tests", "analyses", "snapshots")


@dataclass(frozen=True)
class DbtRun:
    """One finished dbt command: its arguments and the lines dbt logged at info level or above."""

    args: list[str]
    stdout: str


@contextmanager
def _environment(updates: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _project_fingerprint(project: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file dbt parses in a project."""
    files = [project / "dbt_project.yml", project / "profiles.yml"]
    for folder in _PARSED_FOLDERS:
        files.extend(path for path in (project / folder).rglob("*") if path.is_file())
    return tuple(
        (str(path), stat.st_size, stat.st_mtime_ns)
        for path in sorted(files)
        if path.exists() and (stat := path.stat())
    )


def _manifest_key(project: Path, vars_json: str, duckdb_path: Path) -> tuple[object, ...]:
    """What a parse depends on: the project's files, the vars (input paths with their folders
    as placeholders, ``_parse_vars``) and the DuckDB file's name (DuckDB names the database
    after it)."""
    return (str(project), vars_json, duckdb_path.stem, _project_fingerprint(project))


@dataclass
class _Parse:
    """A parsed manifest, and the texts of its sources' fields that name an input folder
    placeholder (by source id and field path), to be put back before each run."""

    manifest: Manifest
    inputs: dict[str, dict[tuple[str, ...], str]]


def _parse_vars(dbt_vars: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The vars to parse with, and what to put back: each input path's folder replaced by a
    placeholder of its own (its last part kept, as a `.parquet` bill reads otherwise; an empty
    path stays empty). A path with a quote or `$` (which the sources' SQL escapes or formats)
    is parsed as it is. The project tests a path for emptiness and its extension only; a parse
    that branched on the folder (`s3://` or not, say) would need the path in the key, and
    ``_input_fields`` cannot see a branch, only where a placeholder lands."""
    parse_vars = dict(dbt_vars)
    folders = {}
    for name in INPUT_PATH_VARS:
        value = dbt_vars.get(name)
        if not isinstance(value, str) or "/" not in value or "'" in value or "$" in value:
            continue
        folder, last = value.rsplit("/", 1)
        placeholder = f"{_INPUT_FOLDER}/{name}/"
        parse_vars[name] = placeholder + last
        folders[placeholder] = folder + "/"
    return parse_vars, folders


def _field(node: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        node = node[step] if isinstance(node, dict) else getattr(node, step, None)
    return node


def _input_fields(manifest: Manifest) -> dict[str, dict[tuple[str, ...], str]]:
    """The sources' fields that name an input folder placeholder; raise if the parse put one
    anywhere else (a path var read at parse time by a model, test or config: parsing must then
    be keyed on the path, which ``_parse_vars`` does not do)."""
    inputs: dict[str, dict[tuple[str, ...], str]] = {}
    for unique_id, source in manifest.sources.items():
        for path in _SOURCE_FIELDS:
            text = _field(source, path)
            if isinstance(text, str) and _INPUT_FOLDER in text:
                inputs.setdefault(unique_id, {})[path] = text
    found = json.dumps(manifest.writable_manifest().to_dict()).count(_INPUT_FOLDER)
    disabled = sum(
        text.count(_INPUT_FOLDER)
        for nodes in manifest.disabled.values()
        for node in nodes
        if node.resource_type == "source"
        for path in _SOURCE_FIELDS
        if isinstance(text := _field(node, path), str)
    )
    expected = disabled + sum(t.count(_INPUT_FOLDER) for f in inputs.values() for t in f.values())
    if found != expected:
        raise AssertionError(
            f"an input path var is read at parse time outside the sources' location"
            f" ({found - expected} more uses of {_INPUT_FOLDER}): conftest.run_dbt shares"
            " parses across input folders and would run with another test's paths"
        )
    return inputs


def _put_back_inputs(parse: _Parse, folders: Mapping[str, str]) -> None:
    """Write each source's location for this run's input folders."""
    for unique_id, fields in parse.inputs.items():
        source = parse.manifest.sources[unique_id]
        for path, text in fields.items():
            for placeholder, folder in folders.items():
                text = text.replace(placeholder, folder)
            parent = _field(source, path[:-1])
            if isinstance(parent, dict):
                parent[path[-1]] = text
            else:
                setattr(parent, path[-1], text)


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command, so the
    test (or the next command, on another file) can open it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager._ENV = None


def _invoke(args: list[str], manifest: Manifest | None) -> tuple[dbtRunnerResult, list[str]]:
    from dbt.cli.main import dbtRunner

    lines: list[str] = []

    def keep(event: Any) -> None:  # dbt_common's EventMsg
        if event.info.level in {"info", "warn", "error"} and event.info.msg:
            lines.append(event.info.msg)

    try:
        result = dbtRunner(manifest=manifest, callbacks=[keep]).invoke(args)
    finally:
        _release_duckdb()
    return result, lines


def _failed(what: str, args: list[str], result: dbtRunnerResult, lines: list[str]) -> str:
    tail = "\n".join(lines[-TAIL_LINES:])
    return (
        f"dbt {what} failed: dbt {' '.join(args)}\n"
        f"--- last {TAIL_LINES} lines dbt logged ---\n{tail}\n--- exception ---\n"
        f"{result.exception!r}"
    )


def run_dbt(
    args: Sequence[str],
    *,
    duckdb_path: Path | str,
    vars: Mapping[str, Any],
    target_dir: Path | str,
    project_dir: Path | None = None,
    unit_tests: bool = False,
    seeds_dir: Path | None = None,
) -> DbtRun:
    """Run one dbt command in this process and return it; raise AssertionError if it fails.

    Args:
        args: the dbt command and its own arguments, e.g. ``["build", "--fail-fast"]``.
        duckdb_path: the DuckDB file to build into (``FEATURE_COST_DUCKDB``).
        vars: dbt vars.
        target_dir: a scratch directory; dbt writes ``target/`` and ``logs/`` under it, so
            runs never touch the project's own ``target/`` or each other's.
        project_dir: the dbt project to run (default: this one), e.g. a copy with edited seeds.
        unit_tests: run dbt's unit tests in a ``build``. They depend on no data: the session's
            demo build runs them once, other builds leave them out.
        seeds_dir: the seed CSVs to read (``FEATURE_COST_SEEDS``; default: the project's).

    dbt runs through its Python API (``dbtRunner``), as ``dbt`` on the command line would,
    with the ``dev`` (DuckDB) target forced and the profile read from the project. The project
    is parsed once per set of vars, DuckDB file name and project files, and the parsed
    manifest reused by the commands that follow; input paths that differ only in their folder
    share a parse, the sources' locations written for each command's folders. dbt's Python API
    is not thread-safe: call this from one thread at a time. On failure the AssertionError
    carries the command and the last lines dbt logged.
    """
    project = Path(project_dir or PROJECT_ROOT)
    database = Path(duckdb_path)
    target = Path(target_dir)
    parse_vars, folders = _parse_vars(vars)
    options = [
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target / "target"),
        "--log-path",
        str(target / "logs"),
        "--quiet",
        # No debug log file and no run_results.json/manifest.json: a test reads what the
        # callback keeps and the DuckDB file (about a tenth of a build's time).
        "--log-level-file",
        "none",
        "--no-write-json",
    ]
    common = [*options, "--vars", json.dumps(dict(vars), sort_keys=True)]
    command = list(args)
    if command[0] == "build" and not unit_tests and "--exclude-resource-type" not in command:
        command += ["--exclude-resource-type", "unit_test"]
    environment = {
        "FEATURE_COST_DUCKDB": str(database),
        "FEATURE_COST_TARGET": "dev",
        **_DBT_QUIET,
    }
    if seeds_dir is not None:
        environment["FEATURE_COST_SEEDS"] = str(seeds_dir)
    database.parent.mkdir(parents=True, exist_ok=True)
    with _environment(environment):
        parse_json = json.dumps(parse_vars, sort_keys=True)
        # The environment variables the project reads when it parses, too.
        key = (
            *_manifest_key(project, parse_json, database),
            *(os.environ.get(name) for name in _PARSED_ENVIRONMENT),
        )
        parse = _MANIFESTS.get(key)
        if parse is None:
            parse_command = ["parse", *options, "--vars", parse_json]
            parsed, lines = _invoke(parse_command, None)
            from dbt.contracts.graph.manifest import Manifest

            if not parsed.success or not isinstance(parsed.result, Manifest):
                raise AssertionError(_failed("parse", parse_command, parsed, lines))
            parse = _Parse(parsed.result, _input_fields(parsed.result))
            _MANIFESTS[key] = parse
            while len(_MANIFESTS) > _MANIFESTS_KEPT:
                _MANIFESTS.popitem(last=False)
        _MANIFESTS.move_to_end(key)
        _put_back_inputs(parse, folders)
        result, lines = _invoke([*command, *common], parse.manifest)
    if not result.success:
        raise AssertionError(_failed(command[0], [*command, *common], result, lines))
    return DbtRun(args=command, stdout="\n".join(lines))


def invoke_dbt(args: Sequence[str]) -> DbtRun:
    """Run a dbt command that needs no parse of its own kept (``ls``, ``deps``, ``parse``) in
    this process, as ``run_dbt`` does: usage stats off, DuckDB released afterwards; raise
    AssertionError with the command and the last lines dbt logged if it fails. The command's
    own result (``ls``'s lines) is in ``DbtRun.stdout``."""
    command = list(args)
    with _environment(_DBT_QUIET):
        result, lines = _invoke(command, None)
    if not result.success:
        raise AssertionError(_failed(command[0], command, result, lines))
    listed = result.result if isinstance(result.result, list) else lines
    return DbtRun(args=command, stdout="\n".join(str(line) for line in listed))


def source_columns() -> dict[tuple[str, str], list[tuple[str, str | None]]]:
    """Every source table of the project's sources YAML: its columns and their ``data_type``
    (None where a column has none), in the order the YAML lists them."""
    columns = {}
    for path in sorted((PROJECT_ROOT / "models").rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            for table in source["tables"]:
                columns[(source["name"], table["name"])] = [
                    (column["name"], column.get("data_type")) for column in table["columns"]
                ]
    return columns


def read_csv(path: Path) -> list[dict[str, str]]:
    """Every row of a CSV file with a header (a seed, say), as dicts."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def otlp_span(trace: str, span_id: str, start: int, end: int, **attributes: Any) -> dict:
    """One OTLP/JSON span of kind SERVER with string attributes; ``parent`` and ``name`` are
    taken out of the attributes."""
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": attributes.pop("parent", ""),
        "name": attributes.pop("name", "work"),
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
    }


def dbt_vars_for(data_dir: Path) -> dict[str, str]:
    """The dbt vars that point the project at a directory laid out like the demo's output.

    Every input var is set, so nothing falls back to the project's own ``data/demo``: the
    FOCUS bill (``focus_billing_path``) is ``billing/*.csv`` when the directory has one, else
    the empty string, which the project reads as "no bill".
    """
    billing = data_dir / "billing"
    has_bill = billing.is_dir() and any(billing.glob("*.csv"))
    return {
        "otlp_path": str(data_dir / "otlp" / "*.jsonl*"),
        "revenue_path": str(data_dir / "revenue" / "*.csv"),
        "feature_flags_path": str(data_dir / "feature_flags" / "*.csv"),
        "focus_billing_path": str(billing / "*.csv") if has_bill else "",
    }


def build_spans_alone(root: Path, otlp_lines: Iterable[str]) -> tuple[Path, dict[str, str]]:
    """Write OTLP/JSON lines under ``root`` with no revenue (a file of the header alone), no
    flag history and no bill, and ``dbt build`` them into a DuckDB file of their own: its path
    and the dbt vars."""
    (root / "otlp").mkdir(parents=True)
    (root / "otlp" / "spans.jsonl").write_text(
        "".join(f"{line}\n" for line in otlp_lines), encoding="utf-8"
    )
    (root / "revenue").mkdir()
    (root / "revenue" / "revenue.csv").write_text(
        "date_day,feature_id,tenant_id,revenue,currency\n", encoding="utf-8"
    )
    dbt_vars = {
        "otlp_path": str(root / "otlp" / "*.jsonl"),
        "revenue_path": str(root / "revenue" / "*.csv"),
        "feature_flags_path": "",
        "focus_billing_path": "",
    }
    duckdb_path = root / "feature_cost.duckdb"
    run_dbt(["build"], duckdb_path=duckdb_path, vars=dbt_vars, target_dir=root)
    return duckdb_path, dbt_vars


@dataclass(frozen=True)
class DemoBuild:
    """A generated demo data set and the DuckDB file dbt built from it."""

    data_dir: Path
    duckdb_path: Path
    demo: GeneratedDemo
    vars: dict[str, str]


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file for the block (the other pytest workers wait)."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# The modules that take longest, longest first (seconds of one core each, from
# `pytest --durations=0`: ~85, 85, 50, 40, 35, 35, 30, 25, 20, then 10 or less), but for
# test_end_to_end (~45 s), second: it builds the session's demo, which most modules wait for,
# while the other worker starts on the longest. pytest-xdist hands each worker a whole module
# at a time (`--dist loadscope`) in collection order (`--no-loadscope-reorder`): started
# first, the long ones end together instead of one worker finishing a long module alone.
LONGEST_MODULES_FIRST = (
    "test_incremental_days",
    "test_end_to_end",
    "test_publish_faults",
    "test_bigquery_check",
    "test_inputs",
    "test_init",
    "test_hostile_input",
    "test_rate_card_impact",
    "test_incremental_parse",
    "test_bench_data",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Collect the longest modules first (the order within a module is kept)."""
    rank = {name: number for number, name in enumerate(LONGEST_MODULES_FIRST)}
    items.sort(key=lambda item: rank.get(Path(item.path).stem, len(rank)))


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """Generate a 3-day, 200-requests-a-day demo (seed 11, with its Parquet spans) and
    ``dbt build`` it (unit and data tests included), from the OTLP files, once per run.

    Under pytest-xdist the first worker that needs it builds it in the run's folder while the
    others wait; each worker then reads its own copy of the DuckDB file (one process may open
    a DuckDB file for writing only while no other has it open).
    """
    base = tmp_path_factory.getbasetemp()
    run_root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = run_root / "demo_build_shared"
    with _exclusive(run_root / "demo_build_shared.lock"):
        built = shared / "demo.pickle"
        failed = run_root / "demo_build_shared.failed"
        if failed.exists():  # another worker's build failed: say so at once, not build again
            raise AssertionError(failed.read_text(encoding="utf-8"))
        if not built.exists():
            shutil.rmtree(shared, ignore_errors=True)
            data_dir = shared / "data"
            try:
                demo = generate(SESSION_DEMO_CONFIG, data_dir)
                run_dbt(
                    ["build"],
                    duckdb_path=shared / "feature_cost.duckdb",
                    vars=dbt_vars_for(data_dir),
                    target_dir=shared,
                    unit_tests=True,
                )
            except BaseException as error:
                failed.write_text(f"the session's demo build failed: {error}", encoding="utf-8")
                raise
            partial = built.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(demo))
            os.replace(partial, built)
    demo = pickle.loads(built.read_bytes())
    root = tmp_path_factory.mktemp("demo_build")
    duckdb_path = root / "feature_cost.duckdb"
    shutil.copyfile(shared / "feature_cost.duckdb", duckdb_path)
    data_dir = shared / "data"
    return DemoBuild(
        data_dir=data_dir, duckdb_path=duckdb_path, demo=demo, vars=dbt_vars_for(data_dir)
    )
