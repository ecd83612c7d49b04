{#- Nanosecond epoch integers are the project's time unit inside the models: exact,
    portable (BIGINT / INT64) and free of time-zone surprises. These macros convert
    them where DuckDB and BigQuery spell the same thing differently. -#}

{% macro day_number_to_date(day_number) %}
    {{ return(adapter.dispatch('day_number_to_date', 'feature_cost')(day_number)) }}
{% endmacro %}

{% macro default__day_number_to_date(day_number) %}
    cast(date '1970-01-01' + cast({{ day_number }} as integer) as date)
{% endmacro %}

{% macro bigquery__day_number_to_date(day_number) %}
    date_add(date '1970-01-01', interval {{ day_number }} day)
{% endmacro %}
