{#- dbt.safe_cast is a plain cast on DuckDB, which raises on bad input; telemetry needs a
    cast that yields null instead (BigQuery's safe_cast already does). -#}
{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}
