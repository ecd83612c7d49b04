{{ config(severity='warn') }}
-- The bill charges a service's compute for a month the telemetry shows none of its work in
-- (no estimate in any region): there is nothing to reconcile that bill to, so it is not in
-- the mart's reconciled_cost (rate_card_variance still shows it). Compute billed with no
-- region, or in a region without spans, is placed on the service's other regions that month
-- and is not listed. Returns each service and month whose bill reaches no feature.
with

factors as (

    select * from {{ ref('int_compute_billing_factors') }}

),

final as (

    select
        billing_month,
        service_name,
        sum(billed_cost) as unreconciled_billed_cost
    from factors
    group by billing_month, service_name
    having sum(billed_cost) != 0 and coalesce(sum(estimated_cost), 0) = 0

)

select * from final
