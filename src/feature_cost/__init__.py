"""Tooling for the feature-cost dbt project: demo telemetry and summaries."""

__version__ = "0.1.0"

# The schema of the marts in a DuckDB file the dbt project built (the default of its var
# `marts_schema`, macros/generate_schema_name.sql): where every command reads them.
MARTS_SCHEMA = "feature_cost_marts"
