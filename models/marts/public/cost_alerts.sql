-- Grain: one row per (date_day, feature_id, tenant_id, alert_type) that fires.
-- Guarantees: alerts on the daily cost per request, for each feature over all its tenants
-- (tenant_id `__all__`) and for each feature and named tenant: `threshold` when it exceeds
-- the feature's `max_cost_per_request`, and `anomaly` when it exceeds `anomaly_factor` x the
-- mean of the same scope's own trailing 7 days (at least 2 of them with requests). And
-- `budget_forecast` on each day whose forecast to the end of the month (month-to-date cost /
-- days of the month elapsed x days in the month) exceeds a budget of cost_budgets (for a
-- feature, a tenant, or both; `__all__` where the budget says `*`). The warn-severity test on
-- this model makes a scheduled `dbt build` report them without failing; `feature-cost alerts`
-- posts the new ones. Only complete days alert (rule 16): a day in progress has its day of
-- amortization and a part of its requests, so its cost per request is not yet comparable.
with

mart as (

    select * from {{ ref('feature_cost_margin') }}
    where is_complete_day

),

thresholds as (

    select * from {{ ref('cost_alert_thresholds') }}

),

budgets as (

    select * from {{ ref('cost_budgets') }}

),

scope_days as (

    -- Each feature's days, over all its tenants and for each named tenant.
    select
        date_day,
        feature_id,
        '__all__' as tenant_id,
        {{ exact_sum("total_cost") }} as total_cost,
        sum(request_count) as request_count,
        {{ safe_divide(exact_sum('total_cost'), 'sum(request_count)') }} as cost_per_request
    from mart
    where not starts_with(feature_id, '__')
    group by date_day, feature_id

    union all

    select
        date_day,
        feature_id,
        tenant_id,
        {{ exact_sum("total_cost") }} as total_cost,
        sum(request_count) as request_count,
        {{ safe_divide(exact_sum('total_cost'), 'sum(request_count)') }} as cost_per_request
    from mart
    where not starts_with(feature_id, '__') and not starts_with(tenant_id, '__')
    group by all

),

with_history as (

    select
        *,
        avg(cost_per_request) over (
            partition by feature_id, tenant_id
            order by date_day
            rows between 7 preceding and 1 preceding
        ) as trailing_cost_per_request,
        count(cost_per_request) over (
            partition by feature_id, tenant_id
            order by date_day
            rows between 7 preceding and 1 preceding
        ) as trailing_days
    from scope_days

),

threshold_alerts as (

    select
        with_history.date_day,
        with_history.feature_id,
        with_history.tenant_id,
        'threshold' as alert_type,
        with_history.cost_per_request,
        thresholds.max_cost_per_request as limit_value,
        with_history.request_count,
        with_history.total_cost,
        cast(null as {{ type_double() }}) as forecast_cost
    from with_history
    inner join thresholds using (feature_id)
    where with_history.cost_per_request > thresholds.max_cost_per_request

),

anomaly_alerts as (

    select
        with_history.date_day,
        with_history.feature_id,
        with_history.tenant_id,
        'anomaly' as alert_type,
        with_history.cost_per_request,
        with_history.trailing_cost_per_request * thresholds.anomaly_factor as limit_value,
        with_history.request_count,
        with_history.total_cost,
        cast(null as {{ type_double() }}) as forecast_cost
    from with_history
    inner join thresholds using (feature_id)
    where
        with_history.trailing_days >= 2
        and with_history.cost_per_request
        > with_history.trailing_cost_per_request * thresholds.anomaly_factor

),

budget_days as (

    -- Each budget's cost and requests on each day of its month (every feature, reserved ones
    -- too, counts towards a tenant's budget).
    select
        budgets.feature_id,
        budgets.tenant_id,
        budgets.month_start,
        budgets.budget,
        mart.date_day,
        {{ exact_sum("mart.total_cost") }} as day_cost,
        sum(mart.request_count) as day_requests
    from budgets
    inner join mart
        on
            budgets.feature_id in ('*', mart.feature_id)
            and budgets.tenant_id in ('*', mart.tenant_id)
            and cast({{ dbt.date_trunc('month', 'mart.date_day') }} as date) = budgets.month_start
    group by all

),

budget_forecasts as (

    select
        *,
        sum(day_cost) over budget_month as month_to_date_cost,
        sum(day_requests) over budget_month as month_to_date_requests,
        extract(day from date_day) as days_elapsed,
        extract(day from {{ dbt.last_day('date_day', 'month') }}) as days_in_month
    from budget_days
    window budget_month as (
        partition by feature_id, tenant_id, month_start
        order by date_day
        rows between unbounded preceding and current row
    )

),

budget_alerts as (

    select
        date_day,
        case when feature_id = '*' then '__all__' else feature_id end as feature_id,
        case when tenant_id = '*' then '__all__' else tenant_id end as tenant_id,
        'budget_forecast' as alert_type,
        cast(null as {{ type_double() }}) as cost_per_request,
        budget as limit_value,
        month_to_date_requests as request_count,
        month_to_date_cost as total_cost,
        month_to_date_cost / days_elapsed * days_in_month as forecast_cost
    from budget_forecasts
    where month_to_date_cost / days_elapsed * days_in_month > budget

),

final as (

    select * from threshold_alerts
    union all
    select * from anomaly_alerts
    union all
    select * from budget_alerts

)

select * from final
