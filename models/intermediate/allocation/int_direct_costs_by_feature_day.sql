-- Grain: one row per (date_day, feature_id, tenant_id) with any accepted span.
-- Guarantees: sums of the priced span-days (int_span_costs_by_feature_day). Components a
-- shared resource claims on that day (its pool cost replaces them, see
-- shared_cost_allocation) are left out, so nothing is counted twice; every other cost is
-- carried through unchanged. `reconciled_compute_cost` scales each service's compute
-- estimate by its billed / estimated ratio for the month (rule 10), so a billed service's
-- reconciled compute sums to its bill; where the bill has no line for the service it stays
-- the estimate (`unreconciled_compute_cost`).
with

costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}

),

factors as (

    select * from {{ ref('int_compute_billing_factors') }}

),

costs_with_factor as (

    select
        costs.*,
        case when costs.compute_pool_id is null then 1 else 0 end as is_direct_compute,
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
        {{ exact_sum("busy_ns") }} as busy_ns,
        {{ exact_sum("query_count") }} as query_count,
        {{ exact_sum("is_direct_compute * cpu_cost") }} as cpu_cost,
        {{ exact_sum("is_direct_compute * memory_cost") }} as memory_cost,
        {{ exact_sum("is_direct_compute * gpu_cost") }} as gpu_cost,
        {{ exact_sum(
            "case when query_pool_id is null then db_query_cost else 0 end"
        ) }} as db_query_cost,
        {{ exact_sum("llm_cost") }} as llm_cost,
        {{ exact_sum(
            "is_direct_compute * (cpu_cost + memory_cost + gpu_cost)"
            ~ " * coalesce(reconciliation_factor, 1)"
        ) }} as reconciled_compute_cost,
        {{ exact_sum(
            "case when reconciliation_factor is null"
            ~ " then is_direct_compute * (cpu_cost + memory_cost + gpu_cost) else 0 end"
        ) }} as unreconciled_compute_cost
    from costs_with_factor
    group by date_day, feature_id, tenant_id

)

select * from final
