"""Tooling for the feature-cost dbt project: demo telemetry and summaries."""

__version__ = "0.1.0"
