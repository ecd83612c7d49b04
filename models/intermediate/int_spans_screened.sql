-- Grain: one row per span object received (as stg_otel__spans).
-- Guarantees: each span gets exactly one `span_status`: `quarantined` (with the reason from
-- staging), `duplicate` (a later delivery of a (trace_id, span_id) already received; the
-- first in file and line order is kept) or `accepted`. Downstream models read `accepted`.
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

ranked as (

    select
        *,
        case
            when quarantine_reason is null
                then row_number() over (
                    partition by trace_id, span_id, quarantine_reason is null
                    order by filename, line_number, resource_index, scope_index, span_index
                )
        end as delivery_number
    from spans

),

final as (

    select
        *,
        case
            when quarantine_reason is not null then 'quarantined'
            when delivery_number > 1 then 'duplicate'
            else 'accepted'
        end as span_status
    from ranked

)

select * from final
