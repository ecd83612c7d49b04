-- Grain: one row per (date_day, feature_id, alert_type) that fires.
-- Guarantees: two alerts on each feature's daily cost per request (all tenants together):
-- `threshold` when it exceeds the feature's `max_cost_per_request`, and `anomaly` when it
-- exceeds `anomaly_factor` x the mean of the feature's own trailing 7 days (at least 2 of
-- them with requests). The warn-severity test on this model makes a scheduled `dbt build`
-- report them without failing.
with

mart as (

    select * from {{ ref('feature_cost_margin') }}
    where not starts_with(feature_id, '__')

),

thresholds as (

    select * from {{ ref('cost_alert_thresholds') }}

),

feature_days as (

    select
        date_day,
        feature_id,
        {{ exact_sum("total_cost") }} as total_cost,
        sum(request_count) as request_count,
        {{ safe_divide(exact_sum('total_cost'), 'sum(request_count)') }} as cost_per_request
    from mart
    group by date_day, feature_id

),

with_history as (

    select
        *,
        avg(cost_per_request) over (
            partition by feature_id
            order by date_day
            rows between 7 preceding and 1 preceding
        ) as trailing_cost_per_request,
        count(cost_per_request) over (
            partition by feature_id
            order by date_day
            rows between 7 preceding and 1 preceding
        ) as trailing_days
    from feature_days

),

threshold_alerts as (

    select
        with_history.date_day,
        with_history.feature_id,
        'threshold' as alert_type,
        with_history.cost_per_request,
        thresholds.max_cost_per_request as limit_value,
        with_history.request_count,
        with_history.total_cost
    from with_history
    inner join thresholds
        on with_history.feature_id = thresholds.feature_id
    where with_history.cost_per_request > thresholds.max_cost_per_request

),

anomaly_alerts as (

    select
        with_history.date_day,
        with_history.feature_id,
        'anomaly' as alert_type,
        with_history.cost_per_request,
        with_history.trailing_cost_per_request * thresholds.anomaly_factor as limit_value,
        with_history.request_count,
        with_history.total_cost
    from with_history
    inner join thresholds
        on with_history.feature_id = thresholds.feature_id
    where
        with_history.trailing_days >= 2
        and with_history.cost_per_request
        > with_history.trailing_cost_per_request * thresholds.anomaly_factor

),

final as (

    select * from threshold_alerts
    union all
    select * from anomaly_alerts

)

select * from final
