{#- A time written as text ('2026-01-05T10:00:00+02:00', '...Z', or without an offset,
    read as UTC) -> the UTC timestamp. DuckDB's cast to TIMESTAMP drops an offset instead
    of applying it, so a time with one goes through TIMESTAMPTZ, and one without is cast
    directly (through TIMESTAMPTZ it would be read in the session's time zone); BigQuery's
    TIMESTAMP is absolute and reads text without an offset as UTC. -#}

{% macro text_to_utc_timestamp(text) %}
    {{ return(adapter.dispatch('text_to_utc_timestamp', 'feature_cost')(text)) }}
{% endmacro %}

{% macro default__text_to_utc_timestamp(text) %}
    cast(({{ text }}) as {{ dbt.type_timestamp() }})
{% endmacro %}

{% macro duckdb__text_to_utc_timestamp(text) %}
    case
        when regexp_matches(
            trim(cast(({{ text }}) as varchar)), '\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$'
        )
            then timezone('UTC', cast(({{ text }}) as timestamptz))
        else cast(({{ text }}) as timestamp)
    end
{% endmacro %}
