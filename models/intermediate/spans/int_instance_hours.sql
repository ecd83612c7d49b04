-- Grain: one row per instance (service_name, cloud_region, instance_id) and UTC hour, from
-- the first to the last hour of the day the instance ran work that no compute pool claims.
-- Guarantees (rule 14, capacity is paid once): an instance-hour costs its capacity, the
-- instance's price per nanosecond that day x one hour, where the price is what its work
-- costs per nanosecond of busy time at rate-card prices (its size x its card's rates; a
-- busy-weighted average where its work used several cards or sizes). The work that ran in
-- the hour (busy time, each span-day's spread over the hours it ran in by when none of its
-- same-service children ran) is charged its
-- rate-card cost x `capacity_share_factor`: 1 while the work's cost fits in the capacity,
-- capacity / work cost when concurrent work would pay for more than the hour; what the
-- work does not pay is `idle_cost`. Per row: allocated_cost + idle_cost = capacity_cost.
-- Hours without work between the first and last are wholly idle; the rate-card cost of
-- span-days without a rate-card row is unknown, so they take no part (a test fails on
-- them).
-- Incremental by usage day, the same days as int_span_costs_by_feature_day.
{{ config(
    meta={'day_window_column': 'date_day', 'day_window_widen_by_span_reach': true},
    **bigquery_layout('date_day', ['service_name', 'instance_id'])
) }}
{%- set usage_window = usage_day_window(day_window()) %}
with

work as (

    -- The priced span-days whose compute no shared pool pays for.
    select
        date_day,
        service_name,
        cloud_region,
        instance_id,
        active_start_ns,
        active_end_ns,
        busy_ns as own_busy_ns,
        child_intervals,
        count_weight * busy_ns as busy_ns,
        count_weight * busy_ns * vcpu_cores as vcpu_busy_ns,
        cpu_cost,
        memory_cost,
        gpu_cost
    from {{ ref('int_span_days_priced') }}
    where
        {{ in_day_window('date_day', usage_window) }}
        and compute_pool_id is null
        and rate_card_row_found

),

work_hours as (

    select
        work.*,
        hour_number,
        {{ hour_share(
            'work.active_start_ns', 'work.active_end_ns', 'work.own_busy_ns',
            'work.child_intervals'
        ) }} as hour_share
    from work
    cross join {{ hours_touched('work.active_start_ns', 'work.active_end_ns') }}

),

used_hours as (

    select
        date_day,
        service_name,
        cloud_region,
        instance_id,
        hour_number,
        {{ exact_sums(
            ['busy_ns', 'vcpu_busy_ns', 'cpu_cost', 'memory_cost', 'gpu_cost'],
            weight='hour_share'
        ) }}
    from work_hours
    group by all

),

instance_days as (

    -- The instance's hours that day and the cost of one of them (its price per nanosecond
    -- of busy time x an hour).
    select
        date_day,
        service_name,
        cloud_region,
        instance_id,
        min(hour_number) as first_hour_number,
        max(hour_number) as last_hour_number,
        {{ safe_divide('3600000.0 * ' ~ exact_sum('vcpu_busy_ns'), exact_sum('busy_ns')) }}
            as capacity_vcpu_ms,
        {{ safe_divide(
            '3600000000000 * ' ~ exact_sum('cpu_cost'), exact_sum('busy_ns')
        ) }}
            as capacity_cpu_cost,
        {{ safe_divide(
            '3600000000000 * ' ~ exact_sum('memory_cost'), exact_sum('busy_ns')
        ) }}
            as capacity_memory_cost,
        {{ safe_divide(
            '3600000000000 * ' ~ exact_sum('gpu_cost'), exact_sum('busy_ns')
        ) }}
            as capacity_gpu_cost
    from used_hours
    group by all

),

instance_hours as (

    select
        instance_days.*,
        hour_number
    from instance_days
    cross join {{ integers_between(
        'instance_days.first_hour_number', 'instance_days.last_hour_number', 'hour_number'
    ) }}

),

capacity as (

    select
        instance_hours.date_day,
        instance_hours.service_name,
        instance_hours.cloud_region,
        instance_hours.instance_id,
        instance_hours.hour_number,
        {{ zero_if_absent(
            'used_hours', ['busy_ns', 'cpu_cost', 'memory_cost', 'gpu_cost']
        ) }},
        {{ zero_if_absent('instance_hours', [
            'capacity_vcpu_ms', 'capacity_cpu_cost', 'capacity_memory_cost', 'capacity_gpu_cost'
        ]) }}
    from instance_hours
    left join used_hours
        on
            {{ same_instance_day('instance_hours', 'used_hours') }}
            and instance_hours.hour_number = used_hours.hour_number

),

totals as (

    select
        *,
        cpu_cost + memory_cost + gpu_cost as work_cost,
        capacity_cpu_cost + capacity_memory_cost + capacity_gpu_cost as capacity_cost
    from capacity

),

shared as (

    select
        *,
        case
            when work_cost > capacity_cost then capacity_cost / work_cost else 1
        end as capacity_share_factor
    from totals

),

allocated as (

    select
        *,
        work_cost * capacity_share_factor as allocated_cost,
        capacity_cost - work_cost * capacity_share_factor as idle_cost
    from shared

),

final as (

    select
        date_day,
        {{ nanos_to_timestamp('hour_number * 3600000000000') }} as hour_start,
        hour_number,
        service_name,
        cloud_region,
        instance_id,
        busy_ns,
        busy_ns / 3600000000000.0 as busy_share_of_hour,
        capacity_vcpu_ms,
        work_cost,
        capacity_cost,
        capacity_share_factor,
        allocated_cost,
        idle_cost,
        -- Idle capacity split into its components in the proportions of the capacity.
        coalesce({{ safe_divide('idle_cost * capacity_cpu_cost', 'capacity_cost') }}, 0)
            as idle_cpu_cost,
        coalesce({{ safe_divide('idle_cost * capacity_memory_cost', 'capacity_cost') }}, 0)
            as idle_memory_cost,
        coalesce({{ safe_divide('idle_cost * capacity_gpu_cost', 'capacity_cost') }}, 0)
            as idle_gpu_cost
    from allocated

)

select * from final
