{% macro bigquery_layout(day_column, cluster_by=none) %}
    {#- A model's table layout on BigQuery as `config()` arguments, for
        `config(**bigquery_layout('date_day', ['feature_id']))`: partitions by day on the DATE
        column `day_column`, clustered by `cluster_by` when given. Other warehouses have
        neither (partition_by none there). Jinja takes named arguments before `**`:
        `config(meta={...}, **bigquery_layout(...))`. -#}
    {%- if target.type != 'bigquery' -%}
        {{ return({'partition_by': none}) }}
    {%- endif -%}
    {%- set layout = {
        'partition_by': {'field': day_column, 'data_type': 'date', 'granularity': 'day'}
    } -%}
    {%- if cluster_by -%}
        {%- do layout.update({'cluster_by': cluster_by}) -%}
    {%- endif -%}
    {{ return(layout) }}
{% endmacro %}
