{% macro source_file_name(table_name) %}
    {#- Where a row was read from: the file (DuckDB reads files, with `filename = true`), or
        the table's name on BigQuery, where sources are tables. -#}
    {{ return(adapter.dispatch('source_file_name', 'feature_cost')(table_name)) }}
{% endmacro %}

{% macro default__source_file_name(table_name) %}filename{% endmacro %}

{% macro bigquery__source_file_name(table_name) %}'{{ table_name }}'{% endmacro %}
