{#- Nanosecond epoch integers are the project's time unit inside the models: exact,
    portable (BIGINT / INT64) and free of time-zone surprises. These macros convert
    them where DuckDB and BigQuery spell the same thing differently. -#}

{% macro nanos_to_day_number(nanos) %}
    {{ return(adapter.dispatch('nanos_to_day_number', 'feature_cost')(nanos)) }}
{% endmacro %}

{% macro default__nanos_to_day_number(nanos) %}
    (({{ nanos }}) // 86400000000000)
{% endmacro %}

{% macro bigquery__nanos_to_day_number(nanos) %}
    div(({{ nanos }}), 86400000000000)
{% endmacro %}
