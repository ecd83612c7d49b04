-- FOCUS 1.3 split cost allocation: across the allocated charges of one origin (a shared
-- resource on a day) the AllocatedRatio values sum to 1 and the costs sum to the origin's
-- cost. Returns each origin where either does not hold.
with

allocated as (

    select * from {{ ref('focus_allocated_costs') }}

),

origins as (

    select
        {{ adapter.quote('ChargePeriodStart') }} as charge_period_start,
        {{ adapter.quote('ResourceId') }} as resource_id,
        max(x_origin_cost) as origin_cost,
        sum({{ adapter.quote('EffectiveCost') }}) as allocated_cost,
        sum(x_allocated_ratio) as ratio_sum
    from allocated
    group by {{ adapter.quote('ChargePeriodStart') }}, {{ adapter.quote('ResourceId') }}

),

final as (

    select * from origins
    where
        {{ differs_beyond_tolerance('origin_cost', 'allocated_cost') }}
        or abs(ratio_sum - 1) > 1e-9

)

select * from final
