{% macro exact_sums(columns) -%}
    {#- `exact_sum(column) as column` for each column, comma-separated: a run of a group's sums
        that keep their columns' names. A sum that renames its column or sums an expression
        is written with `exact_sum`. -#}
    {%- for column in columns %}
    {{ exact_sum(column) }} as {{ column }}
    {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
