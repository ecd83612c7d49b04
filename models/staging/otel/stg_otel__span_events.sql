-- Grain: one row per event of every received span (e.g. `db.query`).
-- Guarantees: events are kept with their time as nanoseconds and UTC timestamp.
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

final as (

    select
        {{ span_address('spans') }},
        cast(event_index as integer) as event_index,
        spans.trace_id,
        spans.span_id,
        span_event.name as event_name,
        {{ cast_or_null('span_event.timeUnixNano', dbt.type_bigint()) }} as event_ns,
        {{ nanos_to_timestamp(cast_or_null('span_event.timeUnixNano', dbt.type_bigint())) }}
            as event_at,
        span_event.attributes as event_attributes
    from spans
    cross join {{ unnest_with_ordinality('spans.span_events', 'span_event', 'event_index') }}

)

select * from final
