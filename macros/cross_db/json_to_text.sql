{% macro json_to_text(json_expr) %}
    {#- A JSON value (from json_object / json_array) as its text. -#}
    {{ return(adapter.dispatch('json_to_text', 'feature_cost')(json_expr)) }}
{% endmacro %}

{% macro default__json_to_text(json_expr) %}cast({{ json_expr }} as varchar){% endmacro %}

{% macro bigquery__json_to_text(json_expr) %}to_json_string({{ json_expr }}){% endmacro %}
