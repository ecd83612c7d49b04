{#- Nanosecond epoch integers are the project's time unit inside the models: exact,
    portable (BIGINT / INT64) and free of time-zone surprises. These macros convert
    them where DuckDB and BigQuery spell the same thing differently. -#}

{% macro integers_between(low, high) %}
    {#- A set-returning expression for every integer from low to high inclusive,
        for use as `cross join {{ integers_between(a, b) }} as alias(n)`. -#}
    {{ return(adapter.dispatch('integers_between', 'feature_cost')(low, high)) }}
{% endmacro %}

{% macro default__integers_between(low, high) %}
    unnest(range(cast({{ low }} as bigint), cast({{ high }} as bigint) + 1))
{% endmacro %}

{% macro bigquery__integers_between(low, high) %}
    unnest(generate_array({{ low }}, {{ high }}))
{% endmacro %}
