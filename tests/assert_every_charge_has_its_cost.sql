{{ config(severity='warn') }}
-- Every FOCUS charge states the cost the var `billing_cost_column` names as the truth (FOCUS
-- requires it). A charge without one (empty, or not a number) cannot be counted: it is left
-- out of the daily bill (a shared resource's day with no other charge then keeps its seed
-- cost) and listed here with its file and number, so the export can be fixed.
with

charges as (

    select * from {{ ref('stg_billing__focus_charges') }}

),

final as (

    select
        filename,
        charge_number,
        charge_period_start,
        charge_category,
        service_name,
        resource_id,
        billed_cost,
        effective_cost,
        list_cost
    from charges
    where {{ billing_truth_cost() }} is null

)

select * from final
