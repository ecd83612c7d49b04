{% macro not_materialized() %}
    {#- Placed between `as` and the body of a CTE read more than once: each read runs the CTE
        again. DuckDB otherwise keeps a copy of such a CTE for the whole statement, every
        column of every row, which for a span-grain CTE is the largest memory of the build;
        BigQuery runs a non-recursive CTE on each read anyway, so it needs nothing. -#}
    {{ return(adapter.dispatch('not_materialized', 'feature_cost')()) }}
{% endmacro %}

{% macro default__not_materialized() %}{% endmacro %}

{% macro duckdb__not_materialized() %}not materialized{% endmacro %}
