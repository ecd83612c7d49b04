{#- Nanosecond epoch integers are the project's time unit inside the models: exact,
    portable (BIGINT / INT64) and free of time-zone surprises. These macros convert
    them where DuckDB and BigQuery spell the same thing differently. -#}

{% macro date_to_day_number(date_expr) %}
    {{ return(adapter.dispatch('date_to_day_number', 'feature_cost')(date_expr)) }}
{% endmacro %}

{% macro default__date_to_day_number(date_expr) %}
    date_diff('day', date '1970-01-01', cast({{ date_expr }} as date))
{% endmacro %}

{% macro bigquery__date_to_day_number(date_expr) %}
    date_diff(cast({{ date_expr }} as date), date '1970-01-01', day)
{% endmacro %}
