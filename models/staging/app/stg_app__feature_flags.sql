-- Grain: one row per change of a feature flag (global when tenant_id is null).
-- Guarantees: names and types only; an empty tenant means every tenant.
with

source as (

    select * from {{ source('app', 'feature_flags') }}

),

final as (

    select
        cast(changed_at as {{ dbt.type_timestamp() }}) as changed_at,
        trim(flag_key) as flag_key,
        trim(feature_id) as feature_id,
        nullif(trim(tenant_id), '') as tenant_id,
        cast(enabled as boolean) as is_enabled
    from source

)

select * from final
