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
