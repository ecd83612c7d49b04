-- Grain: one row per row of the ClickHouse exporter's `otel_traces` layout (one span each).
-- Guarantees: the same columns as base_otel__spans, so one staging contract serves both
-- inputs: ids and times as text, span kind and status as sent, attributes (string maps in
-- this layout) as lists of {key, value} text, events rebuilt from the parallel
-- `Events.*` arrays. Read when the var `span_source` is `clickhouse_parquet` or
-- `clickhouse_table`.
{{ config(enabled=var('span_source') in ('clickhouse_parquet', 'clickhouse_table')) }}
with

source as (

    select * from {{ source('otel', 'clickhouse_spans') }}

),

final as (

    select
        filename,
        cast(file_row_number + 1 as bigint) as line_number,
        1 as resource_index,
        1 as scope_index,
        1 as span_index,
        "TraceId" as trace_id,
        "SpanId" as span_id,
        "ParentSpanId" as parent_span_id,
        "TraceState" as trace_state,
        "SpanName" as span_name,
        "SpanKind" as span_kind,
        cast({{ timestamp_to_nanos('"Timestamp"') }} as varchar) as start_time_unix_nano,
        cast({{ timestamp_to_nanos('"Timestamp"') }} + "Duration" as varchar)
            as end_time_unix_nano,
        "StatusCode" as status_code,
        "StatusMessage" as status_message,
        "ScopeName" as scope_name,
        {{ string_map_to_key_values('"ResourceAttributes"') }} as resource_attributes,
        {{ string_map_to_key_values('"SpanAttributes"') }} as span_attributes,
        list_transform(
            range(1, len(coalesce("Events.Name", [])) + 1),
            lambda i: {
                'timeUnixNano': cast(epoch_ns("Events.Timestamp"[i]) as varchar),
                'name': "Events.Name"[i],
                'attributes': {{ string_map_to_key_values('"Events.Attributes"[i]') }}
            }
        ) as span_events
    from source

)

select * from final
