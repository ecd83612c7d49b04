{% macro not_materialized() %}
    {#- Placed between `as` and the body of a CTE read more than once: each read runs the CTE
        again, where DuckDB would otherwise keep a copy of it, every column of every row, for
        the whole statement. Which is cheaper depends on the query: use it only where a build
        at scale measured the gain (see _macros.yml). BigQuery runs a non-recursive CTE on
        each read anyway, so it needs nothing. -#}
    {{ return(adapter.dispatch('not_materialized', 'feature_cost')()) }}
{% endmacro %}

{% macro default__not_materialized() %}{% endmacro %}

{% macro duckdb__not_materialized() %}not materialized{% endmacro %}
