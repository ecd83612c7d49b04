{% macro json_string_value(json_text, key) %}
    {#- The string value of top-level key `key` in a JSON object held as text (null when
        absent or not JSON). Keys may contain dashes and dots, e.g. `cost-pool`. -#}
    {{ return(adapter.dispatch('json_string_value', 'feature_cost')(json_text, key)) }}
{% endmacro %}

{% macro default__json_string_value(json_text, key) %}
    json_extract_string(
        case when json_valid({{ json_text }}) then {{ json_text }} end,
        '$."' || {{ key }} || '"'
    )
{% endmacro %}

{% macro bigquery__json_string_value(json_text, key) %}
    json_value(safe.parse_json({{ json_text }})[{{ key }}])
{% endmacro %}
