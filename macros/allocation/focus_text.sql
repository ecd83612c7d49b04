{% macro focus_text(column_name) %}
    {#- A FOCUS column as trimmed text, with the literal "NULL" (and empty) read as null:
        real exports write missing values that way. -#}
    nullif(nullif(trim({{ adapter.dispatch('focus_column_text', 'feature_cost')(
        adapter.quote(column_name)
    ) }}), 'NULL'), '')
{% endmacro %}

{% macro default__focus_column_text(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__focus_column_text(column) -%}
    {#- A Parquet export types `Tags` as a MAP (AWS's FOCUS export does): as JSON text, as a
        CSV export writes it, not DuckDB's `{key=value}`. -#}
    case
        when typeof({{ column }}) like 'MAP(%' or typeof({{ column }}) like 'STRUCT(%'
            then cast(to_json({{ column }}) as varchar)
        else cast({{ column }} as varchar)
    end
{%- endmacro %}
