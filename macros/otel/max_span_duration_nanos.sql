{% macro max_span_duration_nanos() %}
    {#- The longest a span may last (var `max_span_duration_hours`, default 24): a longer one
        comes from a broken clock or a span never ended properly; pricing it would invent
        cost, so it is quarantined. -#}
    {%- set hours = var('max_span_duration_hours', 24) -%}
    {%- if hours is not number or hours <= 0 or hours > 8760 -%}
        {{ exceptions.raise_compiler_error(
            "var max_span_duration_hours must be a number of hours in (0, 8760], got '"
            ~ hours ~ "'"
        ) }}
    {%- endif -%}
    cast({{ (hours * 3600 * 1000000000) | int }} as {{ dbt.type_bigint() }})
{% endmacro %}
