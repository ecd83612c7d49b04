{#- Nanosecond epoch integers are the project's time unit inside the models: exact,
    portable (BIGINT / INT64) and free of time-zone surprises. These macros convert
    them where DuckDB and BigQuery spell the same thing differently. -#}

{% macro nanos_to_timestamp(nanos) %}
    {{ return(adapter.dispatch('nanos_to_timestamp', 'feature_cost')(nanos)) }}
{% endmacro %}

{% macro default__nanos_to_timestamp(nanos) %}
    make_timestamp(({{ nanos }}) // 1000)
{% endmacro %}

{% macro bigquery__nanos_to_timestamp(nanos) %}
    timestamp_micros(div(({{ nanos }}), 1000))
{% endmacro %}
