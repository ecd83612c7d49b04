-- Grain: one row per (billing_month, service_name, cloud_region) that has rate-card
-- estimated compute, billed compute, or both.
-- Guarantees (rule 10): the estimate of a service's compute beside what the bill charged
-- for it that month. The estimate is the capacity of its instance-hours (rule 14: the work's
-- share plus idle, of the work no shared pool claims), so the bill scales a figure that
-- already pays each instance-hour once; `reconciliation_factor` = billed / estimated scales
-- each share and the idle so the service's reconciled compute equals its bill. Compute
-- billed in a region the service has no estimate for (a charge with no region, `global`) is
-- placed by estimate on its regions that month that have a bill of their own, else on all
-- with an estimate (`reconciled_billed_cost`), so the service's whole bill is reconciled; a
-- month it has no estimate at all keeps its bill unplaced (assert_billed_compute_reaches_the_mart
-- warns). The factor is null where the region has no estimate, or neither a bill nor a share
-- of one (its estimate stands).
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

by_region as (

    select
        billing_month,
        service_name,
        cloud_region,
        estimated_by_month.estimated_cost,
        estimated_by_month.vcpu_ms,
        billed_by_month.billed_cost
    from estimated_by_month
    full outer join billed_by_month using (billing_month, service_name, cloud_region)

),

service_months as (

    -- The service's compute billed that month in no region it has an estimate for (a charge
    -- with no region, `global`), and the estimate of the regions it is placed on: those with
    -- a bill of their own, else (none has one) all with an estimate.
    select
        billing_month,
        service_name,
        nullif({{ exact_sum(
            "case when coalesce(estimated_cost, 0) = 0 then billed_cost end"
        ) }}, 0) as unplaced_billed_cost,
        {{ exact_sum(
            "case when estimated_cost != 0 and billed_cost is not null then estimated_cost end"
        ) }} as billed_regions_estimated_cost,
        {{ exact_sum("estimated_cost") }} as total_estimated_cost
    from by_region
    group by all

),

placed as (

    -- A region's bill, plus its share (by estimate) of the service's unplaced bill if it is
    -- one the unplaced bill is placed on. A region with neither keeps its estimate.
    select
        by_region.*,
        case
            when by_region.estimated_cost = 0 then null
            when by_region.billed_cost is not null
                then
                    by_region.billed_cost
                    + coalesce(service_months.unplaced_billed_cost, 0)
                    * by_region.estimated_cost / service_months.billed_regions_estimated_cost
            when service_months.billed_regions_estimated_cost is null
                then
                    service_months.unplaced_billed_cost
                    * by_region.estimated_cost / service_months.total_estimated_cost
        end as reconciled_billed_cost
    from by_region
    inner join service_months using (billing_month, service_name)

),

final as (

    select
        billing_month,
        service_name,
        cloud_region,
        estimated_cost,
        vcpu_ms,
        billed_cost,
        reconciled_billed_cost,
        {{ safe_divide('reconciled_billed_cost', 'estimated_cost') }} as reconciliation_factor
    from placed

)

select * from final
