"""The suite shares a dbt parse among runs whose input paths differ only in their folder
(``conftest.run_dbt``): the sources it writes for a run must be the ones dbt's own parse of
those vars gives, or a test would read another test's files."""

from __future__ import annotations

import json
from pathlib import Path

from dbt.contracts.graph.manifest import Manifest

import conftest
from conftest import PROJECT_ROOT, run_dbt


def _locations(manifest: Manifest) -> dict[str, dict[tuple[str, ...], object]]:
    return {
        unique_id: {path: conftest._field(source, path) for path in conftest._SOURCE_FIELDS}
        for unique_id, source in manifest.sources.items()
    }


def test_a_shared_parse_names_the_sources_as_dbts_own_parse_does(tmp_path: Path) -> None:
    # A folder with a space, and a Parquet bill (its source reads otherwise than a CSV one).
    inputs = tmp_path / "my inputs"
    dbt_vars = {
        "otlp_path": str(inputs / "otlp" / "*.jsonl*"),
        "revenue_path": str(inputs / "revenue" / "*.csv"),
        "feature_flags_path": str(inputs / "flags" / "*.csv"),
        "focus_billing_path": str(inputs / "focus.parquet"),
    }
    # One parse serves inputs in other folders, then these.
    parses = []
    for folder in ("a", "b", "my inputs"):
        moved = {name: path.replace("my inputs", folder) for name, path in dbt_vars.items()}
        run_dbt(
            ["ls"], duckdb_path=tmp_path / "feature_cost.duckdb", vars=moved, target_dir=tmp_path
        )
        parses.append(next(reversed(conftest._MANIFESTS.values())))
    shared = parses[-1]
    assert all(parse is shared for parse in parses)

    with conftest._environment(conftest._DBT_QUIET):
        own, lines = conftest._invoke(
            [
                "parse",
                "--project-dir",
                str(PROJECT_ROOT),
                "--profiles-dir",
                str(PROJECT_ROOT),
                "--vars",
                json.dumps(dbt_vars),
                "--target-path",
                str(tmp_path / "own"),
                "--log-path",
                str(tmp_path / "logs"),
                "--quiet",
            ],
            None,
        )
    assert own.success and isinstance(own.result, Manifest), lines
    locations = _locations(shared.manifest)
    assert locations == _locations(own.result)
    assert any(
        str(inputs) in str(text) for fields in locations.values() for text in fields.values()
    )
