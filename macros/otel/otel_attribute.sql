{% macro otel_attribute(attributes, key) %}
    {#- The text of attribute `key` in a list of {key, value} structs (null when absent).
        Where a key repeats, the first occurrence wins. -#}
    {{ return(adapter.dispatch('otel_attribute', 'feature_cost')(attributes, key)) }}
{% endmacro %}

{% macro default__otel_attribute(attributes, key) %}
    list_filter({{ attributes }}, lambda kv: kv.key = '{{ key }}')[1].value
{% endmacro %}

{% macro bigquery__otel_attribute(attributes, key) %}
    (select kv.value from unnest({{ attributes }}) as kv where kv.key = '{{ key }}' limit 1)
{% endmacro %}
