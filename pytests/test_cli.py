"""The command line: options every command shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from feature_cost.cli import _parser

READERS = [
    ["summary"],
    ["report"],
    ["alerts"],
    ["suggest-rates"],
    ["rate-card-impact", "proposed.csv"],
]


@pytest.mark.parametrize("argv", READERS, ids=lambda argv: argv[0])
def test_every_command_reads_the_file_dbt_builds(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without --duckdb a command reads FEATURE_COST_DUCKDB, as dbt and make do."""
    built = tmp_path / "elsewhere.duckdb"
    monkeypatch.setenv("FEATURE_COST_DUCKDB", str(built))
    assert _parser().parse_args(argv).duckdb == built
    assert _parser().parse_args([*argv, "--duckdb", "x.duckdb"]).duckdb == Path("x.duckdb")
    monkeypatch.delenv("FEATURE_COST_DUCKDB")
    assert _parser().parse_args(argv).duckdb == Path("data/feature_cost.duckdb")
