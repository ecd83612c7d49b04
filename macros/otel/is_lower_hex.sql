{% macro is_lower_hex(text, length) %}
    {#- Whether `text` is exactly `length` lowercase hex digits (false for null). -#}
    {{ return(adapter.dispatch('is_lower_hex', 'feature_cost')(text, length)) }}
{% endmacro %}

{% macro default__is_lower_hex(text, length) %}
    regexp_full_match(coalesce({{ text }}, ''), '[0-9a-f]{ {{- length -}} }')
{% endmacro %}

{% macro bigquery__is_lower_hex(text, length) %}
    regexp_contains(coalesce({{ text }}, ''), r'^[0-9a-f]{ {{- length -}} }$')
{% endmacro %}
