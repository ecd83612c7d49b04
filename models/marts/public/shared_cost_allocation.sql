-- Grain: one row per (date_day, resource_id, feature_id, tenant_id).
-- Guarantees (rule 5): each shared resource's cost of the day is split by its allocation key
-- over the work in its scope (pool cost x usage share); a day with cost and no usage of the
-- key goes to `__idle__`; `fixed_pct` pools split by the fixed shares and send the rest to
-- `__unattributed__`. Conserves pool cost per resource and day. `allocated_cost_low` and
-- `allocated_cost_high` bound the split under the plausible alternative keys (rule 9).
{{ config(**bigquery_layout('date_day', ['feature_id', 'tenant_id'])) }}

with

pool_days as (

    select * from {{ ref('int_shared_resource_costs_by_day') }}

),

usage as (

    select * from {{ ref('int_pool_usage_by_feature_day') }}

),

fixed_shares as (

    select * from {{ ref('shared_resource_fixed_shares') }}

),

usage_with_drivers as (

    select
        usage.*,
        pool_days.resource_type,
        pool_days.allocation_key,
        pool_days.pool_cost,
        pool_days.currency,
        case pool_days.allocation_key
            when 'query_count' then usage.query_count
            when 'rows_scanned' then usage.rows_scanned
            when 'memory_usage' then usage.memory_gb_ms
            when 'duration' then usage.busy_ms
            when 'gpu_minutes' then usage.gpu_minutes
            when 'even' then 1
            when 'cost_weighted' then usage.strategy_driver_cost
        end as driver_quantity
    from usage
    inner join pool_days using (resource_id, date_day)
    where pool_days.allocation_key != 'fixed_pct'

),

usage_allocated as (

    select
        date_day,
        resource_id,
        resource_type,
        allocation_key,
        feature_id,
        tenant_id,
        currency,
        pool_cost,
        driver_quantity,
        {{ safe_divide(
            'driver_quantity', exact_sum('driver_quantity', over='partition by date_day, resource_id')
        ) }} as allocation_share,
        {{ allocate_proportionally('pool_cost', 'driver_quantity', ['date_day', 'resource_id']) }}
            as allocated_cost,
        {{ allocate_proportionally('pool_cost', 'query_count', ['date_day', 'resource_id']) }}
            as allocated_cost_by_queries,
        {{ allocate_proportionally('pool_cost', 'busy_ms', ['date_day', 'resource_id']) }}
            as allocated_cost_by_duration
    from usage_with_drivers

),

used_pool_days as (

    select
        date_day,
        resource_id
    from usage_allocated
    where allocated_cost is not null
    group by date_day, resource_id

),

idle as (

    -- Pool days whose key saw no usage at all: the whole cost is idle capacity.
    select
        pool_days.date_day,
        pool_days.resource_id,
        pool_days.resource_type,
        pool_days.allocation_key,
        '__idle__' as feature_id,
        '__shared__' as tenant_id,
        pool_days.currency,
        pool_days.pool_cost,
        0 as driver_quantity,
        1.0 as allocation_share,
        pool_days.pool_cost as allocated_cost,
        pool_days.pool_cost as allocated_cost_low,
        pool_days.pool_cost as allocated_cost_high
    from pool_days
    left join used_pool_days using (resource_id, date_day)
    where pool_days.allocation_key != 'fixed_pct' and used_pool_days.resource_id is null

),

fixed as (

    select
        pool_days.date_day,
        pool_days.resource_id,
        pool_days.resource_type,
        pool_days.allocation_key,
        fixed_shares.feature_id,
        '__shared__' as tenant_id,
        pool_days.currency,
        pool_days.pool_cost,
        fixed_shares.share_pct as driver_quantity,
        fixed_shares.share_pct / 100.0 as allocation_share,
        pool_days.pool_cost * fixed_shares.share_pct / 100.0 as allocated_cost,
        pool_days.pool_cost * fixed_shares.share_pct / 100.0 as allocated_cost_low,
        pool_days.pool_cost * fixed_shares.share_pct / 100.0 as allocated_cost_high
    from pool_days
    inner join fixed_shares using (resource_id)
    where pool_days.allocation_key = 'fixed_pct'

),

fixed_remainder as (

    -- The part of a fixed_pct pool no share names.
    select
        pool_days.date_day,
        pool_days.resource_id,
        pool_days.resource_type,
        pool_days.allocation_key,
        '__unattributed__' as feature_id,
        '__shared__' as tenant_id,
        pool_days.currency,
        pool_days.pool_cost,
        100 - coalesce({{ exact_sum("fixed_shares.share_pct") }}, 0) as driver_quantity,
        (100 - coalesce({{ exact_sum("fixed_shares.share_pct") }}, 0)) / 100.0 as allocation_share,
        pool_days.pool_cost * (100 - coalesce({{ exact_sum("fixed_shares.share_pct") }}, 0)) / 100.0
            as allocated_cost,
        pool_days.pool_cost * (100 - coalesce({{ exact_sum("fixed_shares.share_pct") }}, 0)) / 100.0
            as allocated_cost_low,
        pool_days.pool_cost * (100 - coalesce({{ exact_sum("fixed_shares.share_pct") }}, 0)) / 100.0
            as allocated_cost_high
    from pool_days
    left join fixed_shares using (resource_id)
    where pool_days.allocation_key = 'fixed_pct'
    group by
        pool_days.date_day,
        pool_days.resource_id,
        pool_days.resource_type,
        pool_days.allocation_key,
        pool_days.currency,
        pool_days.pool_cost
    having coalesce({{ exact_sum("fixed_shares.share_pct") }}, 0) < 100

),

usage_rows as (

    select
        {{ star_except(['allocated_cost_by_queries', 'allocated_cost_by_duration']) }},
        least(
            allocated_cost,
            coalesce(allocated_cost_by_queries, allocated_cost),
            coalesce(allocated_cost_by_duration, allocated_cost)
        ) as allocated_cost_low,
        greatest(
            allocated_cost,
            coalesce(allocated_cost_by_queries, allocated_cost),
            coalesce(allocated_cost_by_duration, allocated_cost)
        ) as allocated_cost_high
    from usage_allocated
    where allocated_cost is not null

),

final as (

    select * from usage_rows
    union all
    select * from idle
    union all
    select * from fixed
    union all
    select * from fixed_remainder

)

select * from final
