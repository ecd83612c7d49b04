-- The bill is the truth: every charge's cost reaches int_billed_costs_by_day exactly once
-- (spread over its days, mapped to one target or `__unmapped__`), and reconciled compute in
-- feature_cost_margin sums to the billed compute of every service the bill charges, in the
-- months the telemetry shows its work (plus the estimate of services it does not charge).
-- Returns a row when either does not hold.
with

export_total as (

    select sum(truth_cost) as total_cost
    from {{ ref('stg_billing__focus_charges') }}

),

daily_total as (

    select sum(billed_cost) as total_cost
    from {{ ref('int_billed_costs_by_day') }}

),

compute_expected as (

    select
        sum(
            case
                when reconciliation_factor is not null then reconciled_billed_cost
                else coalesce(estimated_cost, 0)
            end
        ) as total_cost
    from {{ ref('int_compute_billing_factors') }}

),

compute_reconciled as (

    select sum(reconciled_compute_cost) as total_cost
    from {{ ref('int_direct_costs_by_feature_day') }}

),

final as (

    select
        export_total.total_cost as export_cost,
        daily_total.total_cost as daily_cost,
        compute_expected.total_cost as expected_compute_cost,
        compute_reconciled.total_cost as reconciled_compute_cost
    from export_total
    cross join daily_total
    cross join compute_expected
    cross join compute_reconciled
    where
        {{ differs_beyond_tolerance('export_total.total_cost', 'daily_total.total_cost') }}
        or {{ differs_beyond_tolerance(
            'compute_expected.total_cost', 'compute_reconciled.total_cost'
        ) }}

)

select * from final
