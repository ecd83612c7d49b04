{% macro otel_attribute(attributes, key) %}
    {#- The text of attribute `key` in a list of {key, value} structs (null when absent).
        Where a key repeats, the first occurrence wins. `key` may be a list of names, tried
        in order: an attribute's current name, then the names producers also use for it
        (older semantic conventions, another SDK's name). -#}
    {%- set keys = [key] if key is string else key -%}
    {%- set values = [] -%}
    {%- for name in keys -%}
        {%- do values.append(adapter.dispatch('otel_attribute', 'feature_cost')(attributes, name)) -%}
    {%- endfor -%}
    {{ return(values[0] if values | length == 1 else 'coalesce(' ~ values | join(', ') ~ ')') }}
{% endmacro %}

{% macro default__otel_attribute(attributes, key) %}
    list_filter({{ attributes }}, lambda kv: kv.key = '{{ key }}')[1].value
{% endmacro %}

{% macro bigquery__otel_attribute(attributes, key) %}
    (select kv.value from unnest({{ attributes }}) as kv where kv.key = '{{ key }}' limit 1)
{% endmacro %}
