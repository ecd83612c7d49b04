"""Tooling for the feature-cost dbt project: demo telemetry and summaries."""

import os
from pathlib import Path

__version__ = "0.1.0"

# The schema of the marts in a DuckDB file the dbt project built, where every command reads
# them: FEATURE_COST_MARTS_SCHEMA, which is also the default of the project's var
# `marts_schema` (macros/generate_schema_name.sql), else the project's own default.
MARTS_SCHEMA = os.environ.get("FEATURE_COST_MARTS_SCHEMA", "").strip() or "feature_cost_marts"


DEMO_SEEDS = Path("data/demo/seeds")


def seeds_folder(project_dir: Path = Path()) -> str:
    """The seed folder a build reads, as the Makefile chooses it and as FEATURE_COST_SEEDS
    names it to dbt: ``$FEATURE_COST_SEEDS`` (relative to the project), else the demo's
    (``data/demo/seeds``, which ``make data`` writes) when it has seeds, else ``seeds``, the
    demo's reference values."""
    named = os.environ.get("FEATURE_COST_SEEDS", "").strip()
    if named:
        return named
    if any((project_dir / DEMO_SEEDS).glob("*.csv")):
        return str(DEMO_SEEDS)
    return "seeds"


def seeds_dir(project_dir: Path = Path()) -> Path:
    """The path of ``seeds_folder``: the folder of seed CSVs a build reads."""
    return project_dir / seeds_folder(project_dir)
