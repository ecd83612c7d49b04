-- Grain: one row per event of every received span (e.g. `db.query`).
-- Guarantees: events are kept with their time as nanoseconds and UTC timestamp.
with

spans as (

    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        unnest(span_events) as span_event,
        generate_subscripts(span_events, 1) as event_index
    from {{ ref('stg_otel__spans') }}

),

final as (

    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        cast(event_index as integer) as event_index,
        trace_id,
        span_id,
        span_event.name as event_name,
        try_cast(span_event.timeUnixNano as bigint) as event_ns,
        {{ nanos_to_timestamp('try_cast(span_event.timeUnixNano as bigint)') }} as event_at,
        span_event.attributes as event_attributes
    from spans

)

select * from final
