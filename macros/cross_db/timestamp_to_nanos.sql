{% macro timestamp_to_nanos(timestamp_expr) %}
    {#- A UTC timestamp as nanoseconds since the epoch (BIGINT / INT64). -#}
    {{ return(adapter.dispatch('timestamp_to_nanos', 'feature_cost')(timestamp_expr)) }}
{% endmacro %}

{% macro default__timestamp_to_nanos(timestamp_expr) %}
    epoch_ns({{ timestamp_expr }})
{% endmacro %}

{% macro bigquery__timestamp_to_nanos(timestamp_expr) %}
    unix_micros(cast({{ timestamp_expr }} as timestamp)) * 1000
{% endmacro %}
