{% macro exact_sums(columns, weight=none) -%}
    {#- `exact_sum(column) as column` for each column, comma-separated: a run of a group's sums
        that keep their columns' names; with `weight`, each sums `weight * column`. A sum that
        renames its column or sums another expression is written with `exact_sum`. -#}
    {%- for column in columns %}
    {{ exact_sum(weight ~ ' * ' ~ column if weight else column) }} as {{ column }}
    {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
