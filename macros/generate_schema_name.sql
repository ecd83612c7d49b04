{#- Where each model lands: a folder that sets `+schema` (the marts: the var `marts_schema`)
    lands in exactly that schema (DuckDB) or dataset (BigQuery), not dbt's default
    `<target schema>_<schema>`; everything else (staging, intermediate, seeds) in the
    target's own schema. BI tools then see only the marts in theirs. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
