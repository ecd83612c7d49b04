"""Tooling for the feature-cost dbt project: demo telemetry and summaries."""

import os
from pathlib import Path

__version__ = "0.1.0"

# The schema of the marts in a DuckDB file the dbt project built, where every command reads
# them: FEATURE_COST_MARTS_SCHEMA, which is also the default of the project's var
# `marts_schema` (macros/generate_schema_name.sql), else the project's own default.
MARTS_SCHEMA = os.environ.get("FEATURE_COST_MARTS_SCHEMA", "").strip() or "feature_cost_marts"


def seeds_dir(project_dir: Path = Path()) -> Path:
    """The folder of seed CSVs dbt reads (the project's seed-paths): ``$FEATURE_COST_SEEDS``
    (relative to the project), else ``seeds/``, the demo's reference values."""
    return project_dir / (os.environ.get("FEATURE_COST_SEEDS") or "seeds")
