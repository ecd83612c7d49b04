-- Grain: one row per charge of the FOCUS export(s) (file and a number within the file).
-- Guarantees: FOCUS 1.0-1.3 columns renamed to snake_case and typed; the literal "NULL"
-- strings of real exports read as null; times as UTC timestamps; costs as doubles;
-- `truth_cost` the one the var `billing_cost_column` names.
with

source as (

    select
        *,
        {{ source_file_name('focus_cost_and_usage') }} as source_file
    from {{ source('billing', 'focus_cost_and_usage') }}

),

typed as (

    select
        source_file as filename,
        {{ text_to_utc_timestamp(focus_text('ChargePeriodStart')) }} as charge_period_start,
        {{ text_to_utc_timestamp(focus_text('ChargePeriodEnd')) }} as charge_period_end,
        cast({{ focus_text('BilledCost') }} as {{ type_double() }}) as billed_cost,
        cast({{ focus_text('EffectiveCost') }} as {{ type_double() }}) as effective_cost,
        cast({{ focus_text('ListCost') }} as {{ type_double() }}) as list_cost,
        {{ focus_text('BillingCurrency') }} as billing_currency,
        {{ focus_text('ChargeCategory') }} as charge_category,
        {{ focus_text('ProviderName') }} as provider_name,
        {{ focus_text('ServiceName') }} as service_name,
        {{ focus_text('ResourceId') }} as resource_id,
        {{ focus_text('RegionId') }} as region_id,
        {{ focus_text('SubAccountId') }} as sub_account_id,
        {{ focus_text('Tags') }} as tags
    from source

),

final as (

    -- A charge's number within its file. Ordered by every column, so the numbers are the
    -- same on every read of this view (identical charges are interchangeable).
    select
        *,
        {{ billing_truth_cost() }} as truth_cost,
        row_number() over (
            partition by filename
            order by
                charge_period_start, charge_period_end, billed_cost, effective_cost, list_cost,
                billing_currency, charge_category, provider_name, service_name, resource_id,
                region_id, sub_account_id, tags
        ) as charge_number
    from typed

)

select * from final
