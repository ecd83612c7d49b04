{#- A time written as text ('2026-01-05T10:00:00+02:00', '...Z', or without an offset,
    read as UTC) -> the UTC timestamp. DuckDB's cast to TIMESTAMP drops an offset instead
    of applying it, so it goes through TIMESTAMPTZ; BigQuery's TIMESTAMP is absolute. -#}

{% macro text_to_utc_timestamp(text) %}
    {{ return(adapter.dispatch('text_to_utc_timestamp', 'feature_cost')(text)) }}
{% endmacro %}

{% macro default__text_to_utc_timestamp(text) %}
    cast(({{ text }}) as {{ dbt.type_timestamp() }})
{% endmacro %}

{% macro duckdb__text_to_utc_timestamp(text) %}
    timezone('UTC', cast(({{ text }}) as timestamptz))
{% endmacro %}
