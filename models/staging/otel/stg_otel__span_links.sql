-- Grain: one row per link of every received span (a batch consumer's links to the spans
-- whose messages it processed, for example).
-- Guarantees: the linked ids normalized like the span's own (lowercase hex), the link's
-- attributes kept, and the number of messages the link stands for where the producer or
-- consumer records it (`messaging.batch.message_count` on the link).
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

final as (

    select
        {{ span_address('spans') }},
        cast(link_index as integer) as link_index,
        spans.trace_id,
        spans.span_id,
        {{ otlp_id('span_link.traceId', 16) }} as linked_trace_id,
        {{ otlp_id('span_link.spanId', 8) }} as linked_span_id,
        {{ cast_or_null(
            otel_attribute('span_link.attributes', 'messaging.batch.message_count'),
            dbt.type_bigint()
        ) }} as message_count,
        span_link.attributes as link_attributes
    from spans
    cross join {{ unnest_with_ordinality('spans.span_links', 'span_link', 'link_index') }}

)

select * from final
