"""feature-cost installed as a dbt package: a host project that names it in packages.yml (a
local path, as `dbt deps` installs it), sets its vars under the package's name and builds
the same feature_cost_margin as the project on its own.

The host has no dispatch settings of feature-cost's and a span with a damaged start time:
it is quarantined there too (a cast that yields null, not one that stops the build). With
the schema macro the README gives hosts, the marts land where the `feature-cost` commands
read them.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_ROOT, DemoBuild, invoke_dbt, run_dbt
from feature_cost.summary import print_summary
from test_publish import mart_rows, same_rows

HOST_PROFILE = textwrap.dedent(
    """
    host_analytics:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: "{{ env_var('FEATURE_COST_DUCKDB') }}"
          threads: 2
          plugins:
            - module: feature_cost.duckdb_plugin
          settings:
            TimeZone: "UTC"
    """
)

# The README's schema macro for hosts: the marts in feature_cost_marts, as standalone.
HOST_SCHEMA_MACRO = textwrap.dedent(
    """
    {% macro generate_schema_name(custom_schema_name, node) -%}
        {{ feature_cost.generate_schema_name(custom_schema_name, node) }}
    {%- endmacro %}
    """
)

DAMAGED_TRACE = "5b8efff798038103d269b633813fc60c"


def damaged_span_line() -> str:
    """One OTLP/JSON line whose only span has a start time that is not a number."""
    span = {
        "traceId": DAMAGED_TRACE,
        "spanId": "eee19b7ec3c1b174",
        "name": "GET /api/v1/export",
        "kind": 2,
        "startTimeUnixNano": "soon",
        "endTimeUnixNano": "1767614400000000000",
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "web-gateway"}}]}
    traces = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}
    return json.dumps(traces) + "\n"


def write_host(root: Path, data: Path) -> Path:
    """A host dbt project in `root` that installs this project from its folder."""
    host = root / "host"
    (host / "macros").mkdir(parents=True)
    project = {
        "name": "host_analytics",
        "version": "1.0.0",
        "config-version": 2,
        "profile": "host_analytics",
        "vars": {
            "feature_cost": {
                "otlp_path": str(data / "otlp" / "*.jsonl*"),
                "revenue_path": str(data / "revenue" / "*.csv"),
                "feature_flags_path": str(data / "feature_flags" / "*.csv"),
                "focus_billing_path": str(data / "billing" / "*.csv"),
            }
        },
    }
    (host / "dbt_project.yml").write_text(json.dumps(project, indent=2), encoding="utf-8")
    packages = {"packages": [{"local": str(PROJECT_ROOT)}]}
    (host / "packages.yml").write_text(json.dumps(packages), encoding="utf-8")
    (host / "profiles.yml").write_text(HOST_PROFILE, encoding="utf-8")
    (host / "macros" / "generate_schema_name.sql").write_text(HOST_SCHEMA_MACRO, encoding="utf-8")
    return host


@pytest.mark.slow
def test_a_host_project_builds_the_same_mart_as_the_project_alone(
    demo_build: DemoBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_build.data_dir, data, ignore=shutil.ignore_patterns("clickhouse"))
    (data / "otlp" / "traces-damaged.jsonl").write_text(damaged_span_line(), encoding="utf-8")
    host = write_host(tmp_path, data)
    invoke_dbt(["deps", "--project-dir", str(host), "--profiles-dir", str(host), "--quiet"])
    assert (host / "dbt_packages" / "feature_cost" / "dbt_project.yml").exists()

    host_db = tmp_path / "host.duckdb"
    run_dbt(["build"], duckdb_path=host_db, vars={}, target_dir=tmp_path, project_dir=host)

    alone = mart_rows(demo_build.duckdb_path)
    hosted = mart_rows(host_db)
    assert hosted.keys() == alone.keys()
    assert same_rows(
        {"feature_cost_margin": hosted["feature_cost_margin"]},
        {"feature_cost_margin": alone["feature_cost_margin"]},
    )
    with duckdb.connect(str(host_db), read_only=True) as con:
        reasons = con.execute(
            "select quarantine_reason from feature_cost_marts.span_quarantine where trace_id = ?",
            [DAMAGED_TRACE],
        ).fetchall()
    assert reasons == [("invalid_timestamp",)]

    assert print_summary(host_db) == 0
    assert "feature_cost_margin" not in capsys.readouterr().err
