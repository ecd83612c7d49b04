-- Grain: one row per (date_day, feature_id, tenant_id) with any accepted span.
-- Guarantees: sums of int_span_costs_priced, nothing added or dropped: the total of each
-- component here equals its total over all priced span-days.
with

priced as (

    select * from {{ ref('int_span_costs_priced') }}

),

final as (

    select
        date_day,
        feature_id,
        tenant_id,
        sum(invocation_count) as request_count,
        count(*) as span_day_count,
        sum(busy_ns) as busy_ns,
        sum(query_count) as query_count,
        sum(cpu_cost) as cpu_cost,
        sum(memory_cost) as memory_cost,
        sum(gpu_cost) as gpu_cost,
        sum(db_query_cost) as db_query_cost
    from priced
    group by date_day, feature_id, tenant_id

)

select * from final
