{% macro day_window_strategy() %}
    {#- The incremental strategy of the span models: `day_window` (delete the rebuilt days,
        insert) on DuckDB; `insert_overwrite` of the rebuilt day partitions on BigQuery. -#}
    {{ return('insert_overwrite' if target.type == 'bigquery' else 'day_window') }}
{% endmacro %}

{% macro day_partition(column) %}
    {#- BigQuery `partition_by` on a DATE column by day; none elsewhere. -#}
    {%- if target.type == 'bigquery' -%}
        {{ return({'field': column, 'data_type': 'date', 'granularity': 'day'}) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}

{% macro bigquery_cluster_by(columns) %}
    {#- BigQuery `cluster_by` columns; none elsewhere. -#}
    {{ return(columns if target.type == 'bigquery' else none) }}
{% endmacro %}
