{#- Where each node lands. The marts (their folder's `+schema: marts`) land in a schema
    (DuckDB) or dataset (BigQuery) of their own, `marts_schema()`, so BI users see them alone;
    every other node, of this project or of a project that installs it, where dbt's default
    puts it (staging, intermediate and seeds in the target's schema). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if node.package_name == 'feature_cost' and node.resource_type == 'model'
        and (custom_schema_name or '') | trim == 'marts' -%}
        {{ feature_cost.marts_schema() }}
    {%- else -%}
        {{ dbt.default__generate_schema_name(custom_schema_name, node) }}
    {%- endif -%}
{%- endmacro %}

{#- The var `marts_schema` when set; else `feature_cost_marts` on DuckDB (what the
    `feature-cost` commands read) and `<target dataset>_marts` on BigQuery (so a development
    dataset and production have marts of their own). -#}
{% macro marts_schema() -%}
    {%- if var('marts_schema', '') | trim -%}
        {{ var('marts_schema') | trim }}
    {%- elif target.type == 'duckdb' -%}
        feature_cost_marts
    {%- else -%}
        {{ target.schema }}_marts
    {%- endif -%}
{%- endmacro %}
