{% macro zero_if_null(columns, relation=none) -%}
    {#- `coalesce(column, 0) as column` for each column, comma-separated: the counts and costs
        of a row an outer join did not find are zero. `relation` qualifies each column with a
        table alias. -#}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for column in columns %}
    coalesce({{ prefix ~ column }}, 0) as {{ column }}
    {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
