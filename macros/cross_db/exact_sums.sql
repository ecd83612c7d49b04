{% macro exact_sums(columns, weight=none) -%}
    {#- `exact_sum(column) as column` for each column, comma-separated: the sums of a group that
        keep their columns' names. `weight`: an expression each value is multiplied by first
        (`column * weight`), for counts weighted by sampling or split by shares. -#}
    {%- for column in columns %}
    {{ exact_sum(column ~ (' * ' ~ weight if weight else '')) }} as {{ column }}
    {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
