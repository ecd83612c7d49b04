-- Grain: one row per (date_day, resource_id) with a cost.
-- Guarantees: a shared resource's cost of a day comes from the bill (FOCUS charges mapped to
-- it, see int_billed_costs_by_day) where the bill has it, else from the
-- shared_resource_costs seed, whose periods are spread evenly over their days
-- [period_start, period_end). `cost_source` says which. Nothing is counted twice.
with

resources as (

    select * from {{ ref('shared_resources') }}

),

seed_costs as (

    select * from {{ ref('shared_resource_costs') }}

),

billed_costs as (

    select * from {{ ref('int_billed_costs_by_day') }}
    where target_type = 'shared_resource'

),

billed as (

    select
        date_day,
        target_id as resource_id,
        {{ exact_sum("billed_cost") }} as pool_cost
    from billed_costs
    group by date_day, target_id

),

seed_days as (

    select
        seed_costs.resource_id,
        seed_costs.currency,
        {{ straight_line_daily_amount(
            'seed_costs.cost', 'seed_costs.period_start', 'seed_costs.period_end'
        ) }} as daily_cost,
        day_number
    from seed_costs
    cross join {{ integers_between(
        date_to_day_number('seed_costs.period_start'),
        date_to_day_number('seed_costs.period_end') ~ ' - 1',
        'day_number'
    ) }}

),

seeded as (

    select
        {{ day_number_to_date('day_number') }} as date_day,
        resource_id,
        {{ exact_sum("daily_cost") }} as pool_cost
    from seed_days
    group by day_number, resource_id

),

combined as (

    select
        date_day,
        resource_id,
        pool_cost,
        'bill' as cost_source
    from billed
    union all
    select
        seeded.date_day,
        seeded.resource_id,
        seeded.pool_cost,
        'seed' as cost_source
    from seeded
    left join billed using (date_day, resource_id)
    where billed.resource_id is null

),

final as (

    select
        combined.date_day,
        combined.resource_id,
        resources.resource_type,
        resources.allocation_key,
        combined.pool_cost,
        combined.cost_source,
        '{{ var("currency") }}' as currency
    from combined
    inner join resources using (resource_id)

)

select * from final
