-- Amortization accrues every day, used or not: per day of the reporting window, the
-- tenant rows sum to each feature's straight-line build cost (while within its useful life)
-- and to each team's daily maintenance tax. Returns each day and feature or team that does
-- not balance.
with

amortized as (

    select * from {{ ref('int_amortized_costs_by_feature_day') }}

),

window_days as (

    select distinct date_day from amortized

),

build_lives as (

    {{ build_lives(ref('feature_build_costs')) }}

),

expected_build as (

    select
        window_days.date_day,
        build_lives.feature_id,
        build_lives.build_cost / (
            {{ date_to_day_number('build_lives.end_of_life_date') }}
            - {{ date_to_day_number('build_lives.launch_date') }}
        ) as expected_cost
    from window_days
    inner join build_lives
        on {{ in_period(
            'window_days.date_day', 'build_lives.launch_date', 'build_lives.end_of_life_date'
        ) }}

),

actual_build as (

    select
        date_day,
        feature_id,
        sum(build_amortization_cost) as actual_cost
    from amortized
    group by date_day, feature_id

),

expected_maintenance as (

    select
        window_days.date_day,
        sum({{ straight_line_daily_amount(
            'team_costs.team_cost * team_costs.maintenance_share',
            'team_costs.period_start',
            'team_costs.period_end'
        ) }}) as expected_cost
    from window_days
    inner join {{ ref('team_costs') }} as team_costs
        on {{ in_period(
            'window_days.date_day', 'team_costs.period_start', 'team_costs.period_end'
        ) }}
    group by window_days.date_day

),

actual_maintenance as (

    select
        date_day,
        sum(maintenance_cost) as actual_cost
    from amortized
    group by date_day

),

final as (

    select
        'build' as component,
        date_day,
        feature_id,
        expected_build.expected_cost,
        actual_build.actual_cost
    from expected_build
    full outer join actual_build using (date_day, feature_id)
    where {{ differs_beyond_tolerance('expected_build.expected_cost', 'actual_build.actual_cost') }}

    union all

    select
        'maintenance' as component,
        date_day,
        null as feature_id,
        expected_maintenance.expected_cost,
        actual_maintenance.actual_cost
    from expected_maintenance
    full outer join actual_maintenance using (date_day)
    where {{ differs_beyond_tolerance(
        'expected_maintenance.expected_cost', 'actual_maintenance.actual_cost'
    ) }}

)

select * from final
