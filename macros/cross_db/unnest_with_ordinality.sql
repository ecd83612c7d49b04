{% macro unnest_with_ordinality(array_expr, element, position) %}
    {#- A row source for `cross join`: one row per element of an array, with the element
        as `element` and its position as `position` (from 1 on DuckDB; BigQuery's offsets
        start at 0). -#}
    {{ return(adapter.dispatch('unnest_with_ordinality', 'feature_cost')(
        array_expr, element, position
    )) }}
{% endmacro %}

{% macro default__unnest_with_ordinality(array_expr, element, position) %}
    unnest({{ array_expr }}) with ordinality as unnested ({{ element }}, {{ position }})
{% endmacro %}

{% macro bigquery__unnest_with_ordinality(array_expr, element, position) %}
    unnest({{ array_expr }}) as {{ element }} with offset as {{ position }}
{% endmacro %}
