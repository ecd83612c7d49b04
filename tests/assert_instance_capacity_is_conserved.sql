-- Capacity per instance-hour (rule 14): allocated + `__idle__` = capacity cost, the work
-- never pays more than its rate-card cost or than the hour, and idle is never negative;
-- per day, the compute the mart carries (every feature's share and the idle) is the
-- capacity of the instances that ran, and no row's capacity share exceeds its rate-card
-- figure. Returns one row per instance-hour or day that breaks a rule.
with

instance_hours as (

    select * from {{ ref('int_instance_hours') }}

),

mart as (

    select * from {{ ref('feature_cost_margin') }}

),

broken_hours as (

    select
        date_day,
        service_name,
        instance_id,
        hour_number,
        'allocated + idle != capacity, or a share out of bounds' as problem
    from instance_hours
    where
        {{ differs_beyond_tolerance('allocated_cost + idle_cost', 'capacity_cost') }}
        or idle_cost < -1e-9 * greatest(capacity_cost, 1)
        or allocated_cost > work_cost + 1e-9 * greatest(work_cost, 1)
        or allocated_cost > capacity_cost + 1e-9 * greatest(capacity_cost, 1)

),

capacity_by_day as (

    select
        date_day,
        sum(capacity_cost) as capacity_cost
    from instance_hours
    group by date_day

),

compute_by_day as (

    select
        date_day,
        sum(cpu_cost + memory_cost + gpu_cost) as compute_cost
    from mart
    group by date_day

),

broken_days as (

    select
        date_day,
        cast(null as {{ dbt.type_string() }}) as service_name,
        cast(null as {{ dbt.type_string() }}) as instance_id,
        cast(null as {{ dbt.type_bigint() }}) as hour_number,
        'mart compute != instance capacity' as problem
    from capacity_by_day
    full outer join compute_by_day using (date_day)
    where
        {{ differs_beyond_tolerance(
            'capacity_by_day.capacity_cost', 'compute_by_day.compute_cost'
        ) }}

),

broken_rows as (

    select
        date_day,
        cast(null as {{ dbt.type_string() }}) as service_name,
        cast(null as {{ dbt.type_string() }}) as instance_id,
        cast(null as {{ dbt.type_bigint() }}) as hour_number,
        'capacity share above the rate-card figure: ' || feature_id || ' ' || tenant_id
            as problem
    from mart
    where
        feature_id != '__idle__'
        and cpu_cost + memory_cost + gpu_cost
        > dedicated_compute_cost + 1e-9 * greatest(dedicated_compute_cost, 1)

)

select * from broken_hours
union all
select * from broken_days
union all
select * from broken_rows
