{% macro focus_text(column_name) %}
    {#- A FOCUS column as trimmed text, with the literal "NULL" (and empty) read as null:
        real exports write missing values that way. -#}
    nullif(nullif(trim(cast({{ adapter.quote(column_name) }} as {{ dbt.type_string() }})), 'NULL'), '')
{% endmacro %}
