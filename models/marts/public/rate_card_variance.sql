-- Grain: one row per (billing_month, target_type, target_id, cloud_region): a service's
-- compute, a shared resource, or bill charges no mapping claims (`__unmapped__`).
-- Guarantees (rule 10, the bill is the truth): the rate-card estimate beside the billed
-- cost, the variance in percent of the bill, and the rate the bill implies (billed cost /
-- usage: per vCPU-millisecond for compute; per unit of the allocation key for a pool), so
-- rate cards can be corrected. A warn-severity test flags variance beyond +-5%.
with

factors as (

    select * from {{ ref('int_compute_billing_factors') }}

),

costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}

),

pool_days as (

    select * from {{ ref('int_shared_resource_costs_by_day') }}

),

pool_usage as (

    select * from {{ ref('shared_cost_allocation') }}

),

unmapped as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as billing_month,
        target_id,
        cloud_region,
        {{ exact_sum("billed_cost") }} as billed_cost
    from {{ ref('int_billed_costs_by_day') }}
    where target_type = '__unmapped__'
    group by all

),

pool_estimates as (

    -- What the rate cards would have charged for the usage a pool claims.
    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as billing_month,
        coalesce(compute_pool_id, query_pool_id) as resource_id,
        {{ exact_sum(
            "case when compute_pool_id is not null then cpu_cost + memory_cost + gpu_cost else 0 end"
            ~ " + case when query_pool_id is not null then db_query_cost else 0 end"
        ) }} as estimated_cost
    from costs
    where compute_pool_id is not null or query_pool_id is not null
    group by all

),

pool_months as (

    select
        cast({{ dbt.date_trunc('month', 'pool_days.date_day') }} as date) as billing_month,
        pool_days.resource_id,
        {{ exact_sum("pool_days.pool_cost") }} as billed_cost,
        min(pool_days.cost_source) as cost_source
    from pool_days
    group by all

),

pool_drivers as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as billing_month,
        resource_id,
        min(allocation_key) as usage_unit,
        {{ exact_sum(
            "case when feature_id != '__idle__' then driver_quantity else 0 end"
        ) }} as usage_quantity
    from pool_usage
    group by all

),

compute_rows as (

    select
        billing_month,
        'service_compute' as target_type,
        service_name as target_id,
        cloud_region,
        estimated_cost,
        billed_cost,
        vcpu_ms as usage_quantity,
        'vcpu_ms' as usage_unit,
        'bill' as billed_source
    from factors

),

pool_rows as (

    select
        pool_months.billing_month,
        'shared_resource' as target_type,
        pool_months.resource_id as target_id,
        '*' as cloud_region,
        pool_estimates.estimated_cost,
        pool_months.billed_cost,
        pool_drivers.usage_quantity,
        pool_drivers.usage_unit,
        pool_months.cost_source as billed_source
    from pool_months
    left join pool_estimates using (billing_month, resource_id)
    left join pool_drivers using (billing_month, resource_id)

),

unmapped_rows as (

    select
        billing_month,
        '__unmapped__' as target_type,
        target_id,
        cloud_region,
        cast(null as {{ type_double() }}) as estimated_cost,
        billed_cost,
        cast(null as {{ type_double() }}) as usage_quantity,
        cast(null as {{ dbt.type_string() }}) as usage_unit,
        'bill' as billed_source
    from unmapped

),

unioned as (

    select * from compute_rows
    union all
    select * from pool_rows
    union all
    select * from unmapped_rows

),

final as (

    select
        *,
        100.0 * {{ safe_divide('estimated_cost - billed_cost', 'abs(billed_cost)') }}
            as variance_pct,
        {{ safe_divide('billed_cost', 'usage_quantity') }} as suggested_unit_price,
        {{ safe_divide('billed_cost', 'estimated_cost') }} as suggested_rate_multiplier
    from unioned

)

select * from final
