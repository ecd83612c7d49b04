-- Grain: one row per (date_day, feature_id, tenant_id) with any accepted span.
-- Guarantees: sums of int_span_costs_priced. Components a shared resource claims on that
-- day (its pool cost replaces them, see shared_cost_allocation) are left out, so nothing is
-- counted twice; every other cost is carried through unchanged.
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
        sum(case when compute_pool_id is null then cpu_cost else 0 end) as cpu_cost,
        sum(case when compute_pool_id is null then memory_cost else 0 end) as memory_cost,
        sum(case when compute_pool_id is null then gpu_cost else 0 end) as gpu_cost,
        sum(case when query_pool_id is null then db_query_cost else 0 end) as db_query_cost,
        sum(llm_cost) as llm_cost
    from priced
    group by date_day, feature_id, tenant_id

)

select * from final
