{#- A cast that yields null on bad input instead of stopping the query: telemetry carries
    damaged values that are quarantined, never a reason to fail the build. dbt.safe_cast is
    that on BigQuery but a plain cast on DuckDB; this macro does not override dbt's (an
    override takes effect only through the root project's dispatch order, so it would not
    when feature-cost is installed as a package). -#}
{% macro cast_or_null(field, type) %}
    {{ return(adapter.dispatch('cast_or_null', 'feature_cost')(field, type)) }}
{% endmacro %}

{% macro default__cast_or_null(field, type) %}
    {{ dbt.safe_cast(field, type) }}
{% endmacro %}

{% macro duckdb__cast_or_null(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}
