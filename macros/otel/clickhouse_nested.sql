{% macro clickhouse_nested(nested, fields) %}
    {#- A Nested column of the ClickHouse exporter (`Events`, `Links`: parallel
        `<nested>.<column>` arrays in its Parquet export, an array of structs in a BigQuery
        table) as a list of structs, the shape the OTLP decoder produces. `fields` lists
        [OTLP key, column, kind] for each struct field; `clickhouse_value` converts by kind. -#}
    {{ return(adapter.dispatch('clickhouse_nested', 'feature_cost')(nested, fields)) }}
{% endmacro %}

{% macro default__clickhouse_nested(nested, fields) %}
    list_transform(
        range(1, len(coalesce("{{ nested }}.{{ fields[0][1] }}", [])) + 1),
        lambda i: {
        {%- for key, column, kind in fields %}
            '{{ key }}': {{ clickhouse_value('"' ~ nested ~ '.' ~ column ~ '"[i]', kind) }}
            {{- ',' if not loop.last }}
        {%- endfor %}
        }
    )
{% endmacro %}

{% macro bigquery__clickhouse_nested(nested, fields) %}
    array(
        select as struct
        {%- for key, column, kind in fields %}
            {{ clickhouse_value('element.' ~ column, kind) }} as {{ key }}
            {{- ',' if not loop.last }}
        {%- endfor %}
        from unnest({{ nested }}) as element
    )
{% endmacro %}

{% macro clickhouse_value(value, kind) %}
    {#- One value of the ClickHouse exporter as OTLP/JSON has it: a `timestamp` as nanoseconds
        since the epoch in text, `attributes` (a string map) as a list of {key, value}, `text`
        as it is. -#}
    {%- if kind == 'timestamp' -%}
        cast({{ timestamp_to_nanos(value) }} as {{ dbt.type_string() }})
    {%- elif kind == 'attributes' -%}
        {{ string_map_to_key_values(value) }}
    {%- elif kind == 'text' -%}
        {{ value }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "clickhouse_value: unknown kind '" ~ kind ~ "' (timestamp, attributes or text)"
        ) }}
    {%- endif -%}
{% endmacro %}
