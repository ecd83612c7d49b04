-- Grain: one row per (date_day, feature_id, tenant_id) as delivered.
-- Guarantees: names and types only; duplicates are caught by the primary-key test.
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
