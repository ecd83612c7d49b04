-- Grain: one row per (billing_month, service_name, cloud_region) that has rate-card
-- estimated compute, billed compute, or both.
-- Guarantees (rule 10): the rate-card estimate of a service's compute (cpu, memory and gpu
-- cost of the work no shared pool claims) beside what the bill charged for it that month;
-- `reconciliation_factor` = billed / estimated scales each span's estimate so the service's
-- reconciled compute equals its bill. Null where either side is missing or zero.
with

costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}
    where compute_pool_id is null

),

billed as (

    select * from {{ ref('int_billed_costs_by_day') }}
    where target_type = 'service_compute'

),

estimated_by_month as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as billing_month,
        service_name,
        coalesce(cloud_region, '*') as cloud_region,
        {{ exact_sum("cpu_cost + memory_cost + gpu_cost") }} as estimated_cost,
        {{ exact_sum("vcpu_ms") }} as vcpu_ms
    from costs
    group by
        cast({{ dbt.date_trunc('month', 'date_day') }} as date),
        service_name,
        coalesce(cloud_region, '*')

),

billed_by_month as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as billing_month,
        target_id as service_name,
        cloud_region,
        {{ exact_sum("billed_cost") }} as billed_cost
    from billed
    group by cast({{ dbt.date_trunc('month', 'date_day') }} as date), target_id, cloud_region

),

final as (

    select
        coalesce(estimated_by_month.billing_month, billed_by_month.billing_month)
            as billing_month,
        coalesce(estimated_by_month.service_name, billed_by_month.service_name) as service_name,
        coalesce(estimated_by_month.cloud_region, billed_by_month.cloud_region) as cloud_region,
        estimated_by_month.estimated_cost,
        estimated_by_month.vcpu_ms,
        billed_by_month.billed_cost,
        {{ safe_divide('billed_by_month.billed_cost', 'estimated_by_month.estimated_cost') }}
            as reconciliation_factor
    from estimated_by_month
    full outer join billed_by_month
        on
            estimated_by_month.billing_month = billed_by_month.billing_month
            and estimated_by_month.service_name = billed_by_month.service_name
            and estimated_by_month.cloud_region = billed_by_month.cloud_region

)

select * from final
