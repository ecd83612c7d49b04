"""The BigQuery path, proven offline: every model compiles for BigQuery and parses as GoogleSQL;
the checker itself rejects DuckDB-only SQL."""

from __future__ import annotations

from conftest import PROJECT_ROOT
from feature_cost import bigquery_check


def test_the_checker_rejects_duckdb_only_sql() -> None:
    assert bigquery_check.sqlfluff_error("select x::varchar from t") is not None
    assert bigquery_check.sqlfluff_error("select list_filter(a, lambda x: x > 1) from t")
    assert bigquery_check.sqlglot_error("select from where") is not None
    good = "select safe_cast(x as int64) as y from `p`.`d`.`t`"
    assert bigquery_check.sqlfluff_error(good) is None
    assert bigquery_check.sqlglot_error(good) is None


def test_every_model_compiles_and_parses_for_bigquery() -> None:
    compiled, verdicts, output = bigquery_check.check(PROJECT_ROOT)
    assert compiled > 20, output[-3000:]
    failed = [v for v in verdicts if not v.ok]
    assert not failed, failed
    names = {v.name for v in verdicts}
    # On BigQuery spans come from a table: the ClickHouse-layout base model, not the files.
    assert "base_otel__clickhouse_spans" in names
    assert "base_otel__spans" not in names
    assert "feature_cost_margin" in names
