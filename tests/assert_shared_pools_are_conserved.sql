-- Conservation per pool and period: for every shared resource and day with a cost, the
-- allocations (idle included) sum to the pool's cost. Returns each pool-day that does not.
with

pool_days as (

    select * from {{ ref('int_shared_resource_costs_by_day') }}

),

allocated as (

    select
        date_day,
        resource_id,
        sum(allocated_cost) as allocated_cost,
        sum(case when feature_id = '__idle__' then allocated_cost else 0 end) as idle_cost
    from {{ ref('shared_cost_allocation') }}
    group by date_day, resource_id

),

final as (

    select
        date_day,
        resource_id,
        pool_days.pool_cost,
        allocated.allocated_cost,
        allocated.idle_cost
    from pool_days
    full outer join allocated using (date_day, resource_id)
    where {{ differs_beyond_tolerance('pool_days.pool_cost', 'allocated.allocated_cost') }}

)

select * from final
