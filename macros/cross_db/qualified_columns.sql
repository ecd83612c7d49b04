{% macro qualified_columns(columns, relation=none) -%}
    {#- The columns named, comma-separated for a select list or a `group by`, each qualified
        with the table alias `relation` when one is given. -#}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for column in columns -%}
        {{ prefix ~ column }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
