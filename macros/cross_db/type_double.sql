{% macro type_double() %}
    {#- An 8-byte float on every target. dbt.type_float() is FLOAT on DuckDB, which is
        4 bytes there: too coarse for money summed over millions of spans. -#}
    {{ return(adapter.dispatch('type_double', 'feature_cost')()) }}
{% endmacro %}

{% macro default__type_double() %}double{% endmacro %}

{% macro bigquery__type_double() %}float64{% endmacro %}
