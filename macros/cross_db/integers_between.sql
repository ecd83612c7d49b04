{#- A set of rows, one per integer from low to high inclusive, in one column: use it as
    `cross join {{ integers_between(low, high, 'day_number') }}` and refer to the column
    unqualified. DuckDB and BigQuery spell series and their aliases differently. -#}

{% macro integers_between(low, high, column_name) %}
    {{ return(adapter.dispatch('integers_between', 'feature_cost')(low, high, column_name)) }}
{% endmacro %}

{% macro default__integers_between(low, high, column_name) %}
    unnest(range(cast({{ low }} as bigint), cast({{ high }} as bigint) + 1))
        as integer_series ({{ column_name }})
{% endmacro %}

{% macro bigquery__integers_between(low, high, column_name) %}
    unnest(generate_array({{ low }}, {{ high }})) as {{ column_name }}
{% endmacro %}
