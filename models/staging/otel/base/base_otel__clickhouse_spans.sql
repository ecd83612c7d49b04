-- Grain: one row per row of the ClickHouse exporter's `otel_traces` layout (one span each).
-- Guarantees: the same columns as base_otel__spans, so one staging contract serves both
-- inputs: ids and times as text, span kind and status as sent, attributes (string maps in
-- this layout) as lists of {key, value} text, events and links rebuilt from the parallel
-- `Events.*` and `Links.*` arrays. Read when the var `span_source` is `clickhouse_parquet`
-- or `clickhouse_table`.
-- A view, not a table: there is no JSON to parse once, and screening's filter on
-- `raw_start_day` then reaches the Parquet files (their row groups' min/max) or the
-- table's day partitions, so a daily run reads only the days it rebuilds.
{{ config(
    enabled=var('span_source') in ('clickhouse_parquet', 'clickhouse_table'),
    materialized='view'
) }}
with

source as (

    select * from {{ source('otel', 'clickhouse_spans') }}

),

final as (

    select
        {{ clickhouse_row_position() }},
        1 as resource_index,
        1 as scope_index,
        1 as span_index,
        traceid as trace_id,
        spanid as span_id,
        parentspanid as parent_span_id,
        tracestate as trace_state,
        spanname as span_name,
        spankind as span_kind,
        cast({{ timestamp_to_nanos('timestamp') }} as {{ dbt.type_string() }})
            as start_time_unix_nano,
        cast(timestamp as date) as raw_start_day,
        cast({{ timestamp_to_nanos('timestamp') }} + duration as {{ dbt.type_string() }})
            as end_time_unix_nano,
        statuscode as status_code,
        statusmessage as status_message,
        scopename as scope_name,
        {{ string_map_to_key_values('resourceattributes') }} as resource_attributes,
        {{ string_map_to_key_values('spanattributes') }} as span_attributes,
        {{ clickhouse_nested('Events', [
            ['timeUnixNano', 'Timestamp', 'timestamp'],
            ['name', 'Name', 'text'],
            ['attributes', 'Attributes', 'attributes'],
        ]) }} as span_events,
        {{ clickhouse_nested('Links', [
            ['traceId', 'TraceId', 'text'],
            ['spanId', 'SpanId', 'text'],
            ['attributes', 'Attributes', 'attributes'],
        ]) }} as span_links
    from source

)

select * from final
