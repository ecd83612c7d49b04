{% macro quantity_or_null(expr) %}
    {#- `expr` where it is a quantity (a finite number >= 0), else null: a size or a count
        sent negative, NaN or infinite (OTLP/JSON writes "NaN" and "Infinity") measures
        nothing, so it is read as not sent. NaN fails both comparisons on BigQuery; on
        DuckDB it sorts above infinity, so it fails the second. -#}
    case
        when {{ expr }} >= 0 and {{ expr }} < cast('inf' as {{ type_double() }}) then {{ expr }}
    end
{% endmacro %}
