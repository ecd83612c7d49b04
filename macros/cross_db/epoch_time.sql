{#- Nanosecond epoch integers are the project's time unit inside the models: exact,
    portable (BIGINT / INT64) and free of time-zone surprises. These macros convert them
    to and from days, hours and timestamps; dbt's own date macros where they exist, one
    dispatch where DuckDB and BigQuery spell the same thing differently. -#}

{% macro nanos_to_day_number(nanos) -%}
    {{ integer_divide(nanos, 86400000000000) }}
{%- endmacro %}

{% macro nanos_to_hour_number(nanos) -%}
    {{ integer_divide(nanos, 3600000000000) }}
{%- endmacro %}

{% macro date_to_day_number(date_expr) -%}
    {{ dbt.datediff("date '1970-01-01'", "cast(" ~ date_expr ~ " as date)", 'day') }}
{%- endmacro %}

{% macro day_number_to_date(day_number) %}
    {{ return(adapter.dispatch('day_number_to_date', 'feature_cost')(day_number)) }}
{% endmacro %}

{% macro default__day_number_to_date(day_number) -%}
    cast({{ dbt.dateadd('day', day_number, "date '1970-01-01'") }} as date)
{%- endmacro %}

{% macro duckdb__day_number_to_date(day_number) -%}
    {#- dbt.dateadd multiplies an interval on DuckDB, about 8 times slower a row than adding
        days to a date, and this runs on every span. -#}
    cast(date '1970-01-01' + cast({{ day_number }} as integer) as date)
{%- endmacro %}

{% macro integer_divide(dividend, divisor) %}
    {#- Whole part of an integer quotient (BIGINT / INT64), truncated toward zero. -#}
    {{ return(adapter.dispatch('integer_divide', 'feature_cost')(dividend, divisor)) }}
{% endmacro %}

{% macro default__integer_divide(dividend, divisor) %}(({{ dividend }}) // {{ divisor }}){% endmacro %}

{% macro bigquery__integer_divide(dividend, divisor) %}div(({{ dividend }}), {{ divisor }}){% endmacro %}

{% macro nanos_to_timestamp(nanos) %}
    {{ return(adapter.dispatch('nanos_to_timestamp', 'feature_cost')(nanos)) }}
{% endmacro %}

{% macro default__nanos_to_timestamp(nanos) %}make_timestamp({{ integer_divide(nanos, 1000) }}){% endmacro %}

{% macro bigquery__nanos_to_timestamp(nanos) %}timestamp_micros({{ integer_divide(nanos, 1000) }}){% endmacro %}

{% macro timestamp_to_nanos(timestamp_expr) %}
    {#- A UTC timestamp as nanoseconds since the epoch (BIGINT / INT64). -#}
    {{ return(adapter.dispatch('timestamp_to_nanos', 'feature_cost')(timestamp_expr)) }}
{% endmacro %}

{% macro default__timestamp_to_nanos(timestamp_expr) %}epoch_ns({{ timestamp_expr }}){% endmacro %}

{% macro bigquery__timestamp_to_nanos(timestamp_expr) %}
    unix_micros(cast({{ timestamp_expr }} as timestamp)) * 1000
{% endmacro %}
