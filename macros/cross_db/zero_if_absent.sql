{% macro zero_if_absent(relation, columns) -%}
    {#- `coalesce(relation.column, 0) as column` for each column, comma-separated: the counts
        and costs of an outer-joined relation, 0 on the rows it has none for, each name
        written once. -#}
    {%- for column in columns %}
    coalesce({{ relation }}.{{ column }}, 0) as {{ column }}
    {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
