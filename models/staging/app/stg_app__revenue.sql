-- Grain: one row per revenue row as delivered (usually one per date_day, feature_id and
-- tenant_id; line items of one key are summed in the marts, and a warn-severity test lists
-- them in case a file was delivered twice).
-- Guarantees: names and types only.
with

source as (

    select * from {{ source('app', 'revenue') }}

),

final as (

    select
        cast(date_day as date) as date_day,
        trim(feature_id) as feature_id,
        trim(tenant_id) as tenant_id,
        cast(revenue as {{ dbt.type_numeric() }}) as revenue,
        upper(trim(currency)) as currency
    from source

)

select * from final
