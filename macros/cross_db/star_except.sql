{% macro star_except(columns) %}
    {#- Every column of the relation in the FROM clause but `columns`: a step that adds a few
        columns to its input need not list the rest again. DuckDB and BigQuery spell it
        differently. -#}
    {{ return(adapter.dispatch('star_except', 'feature_cost')(columns)) }}
{% endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro bigquery__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}
