-- Grain: one row per (date_day, feature_id, tenant_id) with any accepted span, and one
-- `__idle__` row (tenant `__shared__`) per day with unused instance capacity.
-- Guarantees: sums of the priced span-days (int_span_costs_by_feature_day). Components a
-- shared resource claims on that day (its pool cost replaces them, see
-- shared_cost_allocation) are left out, so nothing is counted twice; every other cost is
-- carried through unchanged. Compute follows rule 14: `cpu_cost`, `memory_cost` and
-- `gpu_cost` are the work's share of its instance-hours' capacity, and the capacity no
-- work used is the `__idle__` row's (int_instance_hours), so a day's compute sums to the
-- capacity of the instances that ran; `dedicated_compute_cost` is the rate-card figure
-- (busy time x size x rates, what the work would cost on capacity of its own).
-- `reconciled_compute_cost` scales each service's compute by its billed / estimated ratio
-- for the month (rule 10), so a billed service's reconciled compute, idle included, sums
-- to its bill; where the bill has no line for the service it stays the estimate
-- (`unreconciled_compute_cost`).
with

span_costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}

),

instance_hours as (

    select * from {{ ref('int_instance_hours') }}

),

factors as (

    select * from {{ ref('int_compute_billing_factors') }}

),

idle_capacity as (

    select
        date_day,
        service_name,
        cloud_region,
        {{ exact_sums(["idle_cpu_cost", "idle_memory_cost", "idle_gpu_cost"]) }}
    from instance_hours
    group by all

),

costs as (

    select
        date_day,
        feature_id,
        tenant_id,
        service_name,
        cloud_region,
        invocation_count,
        span_day_count,
        busy_ns,
        query_count,
        case when compute_pool_id is null then capacity_cpu_cost else 0 end as cpu_cost,
        case when compute_pool_id is null then capacity_memory_cost else 0 end as memory_cost,
        case when compute_pool_id is null then capacity_gpu_cost else 0 end as gpu_cost,
        case
            when compute_pool_id is null then cpu_cost + memory_cost + gpu_cost else 0
        end as dedicated_compute_cost,
        case when query_pool_id is null then db_query_cost else 0 end as db_query_cost,
        llm_cost
    from span_costs
    union all
    select
        date_day,
        '__idle__' as feature_id,
        '__shared__' as tenant_id,
        service_name,
        cloud_region,
        0 as invocation_count,
        0 as span_day_count,
        0 as busy_ns,
        0 as query_count,
        idle_cpu_cost as cpu_cost,
        idle_memory_cost as memory_cost,
        idle_gpu_cost as gpu_cost,
        0 as dedicated_compute_cost,
        0 as db_query_cost,
        0 as llm_cost
    from idle_capacity
    where idle_cpu_cost + idle_memory_cost + idle_gpu_cost > 0

),

costs_with_factor as (

    select
        costs.*,
        factors.reconciliation_factor
    from costs
    left join factors
        on
            cast({{ dbt.date_trunc('month', 'costs.date_day') }} as date)
            = factors.billing_month
            and costs.service_name = factors.service_name
            and coalesce(costs.cloud_region, '*') = factors.cloud_region

),

final as (

    select
        date_day,
        feature_id,
        tenant_id,
        {{ exact_sum("invocation_count") }} as request_count,
        sum(span_day_count) as span_day_count,
        {{ exact_sums([
            "busy_ns", "query_count", "cpu_cost", "memory_cost", "gpu_cost",
            "dedicated_compute_cost", "db_query_cost", "llm_cost"
        ]) }},
        {{ exact_sum(
            "(cpu_cost + memory_cost + gpu_cost) * coalesce(reconciliation_factor, 1)"
        ) }} as reconciled_compute_cost,
        {{ exact_sum(
            "case when reconciliation_factor is null"
            ~ " then cpu_cost + memory_cost + gpu_cost else 0 end"
        ) }} as unreconciled_compute_cost
    from costs_with_factor
    group by all

)

select * from final
