{% macro sql_string_literal(value) %}
    {#- `value` (a var, a path, an id) as a SQL string literal, its quotes escaped, so that
        text a user configures is always data and never SQL. -#}
    {{ return(adapter.dispatch('sql_string_literal', 'feature_cost')(value)) }}
{% endmacro %}

{% macro default__sql_string_literal(value) %}
    {{- "'" ~ (value | string | replace("'", "''")) ~ "'" -}}
{% endmacro %}

{% macro bigquery__sql_string_literal(value) %}
    {{- "'" ~ (value | string | replace("\\", "\\\\") | replace("'", "\\'")
        | replace("\n", "\\n") | replace("\r", "\\r")) ~ "'" -}}
{% endmacro %}
