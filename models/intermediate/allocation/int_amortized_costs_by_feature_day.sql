-- Grain: one row per (date_day, feature_id, tenant_id) with amortized cost, for every day of
-- the reporting window (the first to the last day with priced work).
-- Guarantees (rule 7): build cost accrues straight-line from launch over its useful life; a
-- team's maintenance tax (its cost x maintenance_share) accrues over the days of its period
-- and is spread over the features the team owns by complexity score or change frequency.
-- Both accrue every day, used or not, and are split to tenants by their share of the
-- feature's requests that day, or to `__shared__` when it had none. Nothing is lost: per day
-- the rows sum to the feature-level amounts.
with

costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}

),

build_costs as (

    select * from {{ ref('feature_build_costs') }}

),

ownership as (

    select * from {{ ref('feature_ownership') }}

),

team_costs as (

    select * from {{ ref('team_costs') }}

),

window_bounds as (

    select
        min({{ date_to_day_number('date_day') }}) as first_day_number,
        max({{ date_to_day_number('date_day') }}) as last_day_number
    from costs

),

reporting_days as (

    select {{ day_number_to_date('day_number') }} as date_day
    from window_bounds
    cross join {{ integers_between('first_day_number', 'last_day_number', 'day_number') }}

),

build_lives as (

    {{ build_lives('build_costs') }}

),

build_by_day as (

    select
        reporting_days.date_day,
        build_lives.feature_id,
        {{ straight_line_daily_amount(
            'build_lives.build_cost', 'build_lives.launch_date', 'build_lives.end_of_life_date'
        ) }} as build_amortization_cost
    from reporting_days
    inner join build_lives
        on {{ in_period(
            'reporting_days.date_day', 'build_lives.launch_date', 'build_lives.end_of_life_date'
        ) }}

),

team_tax_by_day as (

    select
        reporting_days.date_day,
        team_costs.team_id,
        team_costs.weight_basis,
        {{ straight_line_daily_amount(
            'team_costs.team_cost * team_costs.maintenance_share',
            'team_costs.period_start',
            'team_costs.period_end'
        ) }} as maintenance_tax
    from reporting_days
    inner join team_costs
        on {{ in_period(
            'reporting_days.date_day', 'team_costs.period_start', 'team_costs.period_end'
        ) }}

),

maintenance_by_day as (

    select
        team_tax_by_day.date_day,
        ownership.feature_id,
        {{ allocate_proportionally(
            'team_tax_by_day.maintenance_tax',
            "case team_tax_by_day.weight_basis when 'change_frequency'"
            ~ " then ownership.changes_per_month else ownership.complexity_score end",
            ['team_tax_by_day.date_day', 'team_tax_by_day.team_id']
        ) }} as maintenance_cost
    from team_tax_by_day
    inner join ownership using (team_id)

),

feature_days as (

    select
        date_day,
        feature_id,
        {{ zero_if_absent('build_by_day', ['build_amortization_cost']) }},
        {{ zero_if_absent('maintenance_by_day', ['maintenance_cost']) }}
    from build_by_day
    full outer join maintenance_by_day using (date_day, feature_id)

),

tenant_requests as (

    select
        date_day,
        feature_id,
        tenant_id,
        {{ exact_sum("invocation_count") }} as request_count
    from costs
    where invocation_count > 0
    group by all

),

tenant_shares as (

    select
        feature_days.date_day,
        feature_days.feature_id,
        coalesce(tenant_requests.tenant_id, '__shared__') as tenant_id,
        feature_days.build_amortization_cost,
        feature_days.maintenance_cost,
        coalesce({{ safe_divide(
            'tenant_requests.request_count',
            'sum(tenant_requests.request_count) over '
            ~ '(partition by feature_days.date_day, feature_days.feature_id)'
        ) }}, 1.0) as tenant_share
    from feature_days
    left join tenant_requests using (date_day, feature_id)

),

final as (

    select
        date_day,
        feature_id,
        tenant_id,
        tenant_share,
        build_amortization_cost * tenant_share as build_amortization_cost,
        maintenance_cost * tenant_share as maintenance_cost
    from tenant_shares

)

select * from final
