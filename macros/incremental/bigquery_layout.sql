{% macro bigquery_layout(day_column, cluster_by=none) %}
    {#- A model's table layout on BigQuery as `config()` arguments, for
        `config(**bigquery_layout('date_day', ['feature_id']))`: partitions by day on the DATE
        column `day_column`, clustered by `cluster_by` when given. Other warehouses have
        neither: both are none there. -#}
    {%- if target.type != 'bigquery' -%}
        {{ return({'partition_by': none, 'cluster_by': none}) }}
    {%- endif -%}
    {{ return({
        'partition_by': {'field': day_column, 'data_type': 'date', 'granularity': 'day'},
        'cluster_by': cluster_by
    }) }}
{% endmacro %}
