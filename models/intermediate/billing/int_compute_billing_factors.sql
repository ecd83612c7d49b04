-- Grain: one row per (billing_month, service_name, cloud_region) that has rate-card
-- estimated compute, billed compute, or both.
-- Guarantees (rule 10): the estimate of a service's compute beside what the bill charged
-- for it that month. The estimate is the capacity of its instance-hours (rule 14: the work's
-- share plus idle, of the work no shared pool claims), so the bill scales a figure that
-- already pays each instance-hour once; `reconciliation_factor` = billed / estimated scales
-- each share and the idle so the service's reconciled compute equals its bill. Null where
-- either side is missing or zero.
with

instance_hours as (

    select * from {{ ref('int_instance_hours') }}

),

estimates as (

    select
        date_day,
        service_name,
        cloud_region,
        capacity_cost as estimated_cost,
        capacity_vcpu_ms as vcpu_ms
    from instance_hours

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
        {{ exact_sums(["estimated_cost", "vcpu_ms"]) }}
    from estimates
    group by all

),

billed_by_month as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as billing_month,
        target_id as service_name,
        cloud_region,
        {{ exact_sum("billed_cost") }} as billed_cost
    from billed
    group by all

),

final as (

    select
        billing_month,
        service_name,
        cloud_region,
        estimated_by_month.estimated_cost,
        estimated_by_month.vcpu_ms,
        billed_by_month.billed_cost,
        {{ safe_divide('billed_by_month.billed_cost', 'estimated_by_month.estimated_cost') }}
            as reconciliation_factor
    from estimated_by_month
    full outer join billed_by_month using (billing_month, service_name, cloud_region)

)

select * from final
