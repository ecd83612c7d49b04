{% macro earliest_span_nanos() %}
    {#- Spans starting before the var `earliest_span_date` (default 2020-01-01; set it to the
        first day your rate cards price) come from a broken clock or a replay of ancient
        data: they are quarantined, never priced. -#}
    {%- set earliest = var('earliest_span_date', '2020-01-01') | string -%}
    {%- set day = modules.datetime.datetime.strptime(earliest[:10], '%Y-%m-%d') -%}
    {%- set epoch = modules.datetime.datetime(1970, 1, 1) -%}
    cast({{ ((day - epoch).days * 86400) | int }}000000000 as {{ dbt.type_bigint() }})
{% endmacro %}
