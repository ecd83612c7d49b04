{% macro clickhouse_events() %}
    {#- The ClickHouse exporter's events (parallel `Events.*` arrays in Parquet; an array of
        structs in a BigQuery table) as a list of {timeUnixNano, name, attributes}, the
        shape the OTLP decoder produces. -#}
    {{ return(adapter.dispatch('clickhouse_events', 'feature_cost')()) }}
{% endmacro %}

{% macro default__clickhouse_events() %}
    list_transform(
        range(1, len(coalesce("Events.Name", [])) + 1),
        lambda i: {
            'timeUnixNano': cast(epoch_ns("Events.Timestamp"[i]) as varchar),
            'name': "Events.Name"[i],
            'attributes': {{ string_map_to_key_values('"Events.Attributes"[i]') }}
        }
    )
{% endmacro %}

{% macro bigquery__clickhouse_events() %}
    array(
        select as struct
            cast(unix_micros(event.Timestamp) * 1000 as string) as timeUnixNano,
            event.Name as name,
            event.Attributes as attributes
        from unnest(Events) as event
    )
{% endmacro %}

{% macro clickhouse_links() %}
    {#- The ClickHouse exporter's span links (parallel `Links.*` arrays in Parquet; an array
        of structs in a BigQuery table) as a list of {traceId, spanId, attributes}, the shape
        the OTLP decoder produces. -#}
    {{ return(adapter.dispatch('clickhouse_links', 'feature_cost')()) }}
{% endmacro %}

{% macro default__clickhouse_links() %}
    list_transform(
        range(1, len(coalesce("Links.TraceId", [])) + 1),
        lambda i: {
            'traceId': "Links.TraceId"[i],
            'spanId': "Links.SpanId"[i],
            'attributes': {{ string_map_to_key_values('"Links.Attributes"[i]') }}
        }
    )
{% endmacro %}

{% macro bigquery__clickhouse_links() %}
    array(
        select as struct
            link.TraceId as traceId,
            link.SpanId as spanId,
            link.Attributes as attributes
        from unnest(Links) as link
    )
{% endmacro %}
