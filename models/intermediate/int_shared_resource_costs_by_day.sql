-- Grain: one row per (date_day, resource_id) with a cost.
-- Guarantees: each period's cost of a shared resource is spread evenly over the days of
-- [period_start, period_end); the days of a resource sum to the cost it was billed.
with

resources as (

    select * from {{ ref('shared_resources') }}

),

costs as (

    select * from {{ ref('shared_resource_costs') }}

),

days as (

    select
        costs.resource_id,
        costs.cost,
        costs.currency,
        {{ straight_line_daily_amount('costs.cost', 'costs.period_start', 'costs.period_end') }}
            as daily_cost,
        day_number
    from costs
    cross join {{ integers_between(
        date_to_day_number('costs.period_start'),
        date_to_day_number('costs.period_end') ~ ' - 1'
    ) }} as period_days (day_number)

),

final as (

    select
        {{ day_number_to_date('days.day_number') }} as date_day,
        days.resource_id,
        resources.resource_type,
        resources.allocation_key,
        sum(days.daily_cost) as pool_cost,
        min(days.currency) as currency
    from days
    inner join resources
        on days.resource_id = resources.resource_id
    group by
        days.day_number, days.resource_id, resources.resource_type, resources.allocation_key

)

select * from final
