{#- Hours since the epoch of a nanosecond epoch integer (the UTC hour it falls in). -#}
{% macro nanos_to_hour_number(nanos) %}
    {{ return(adapter.dispatch('nanos_to_hour_number', 'feature_cost')(nanos)) }}
{% endmacro %}

{% macro default__nanos_to_hour_number(nanos) %}
    (({{ nanos }}) // 3600000000000)
{% endmacro %}

{% macro bigquery__nanos_to_hour_number(nanos) %}
    div(({{ nanos }}), 3600000000000)
{% endmacro %}
