-- service_resource_defaults must keep exactly one `__default__` row: it sizes the work of
-- services it does not list. Returns a row when the fallback is missing or repeated.
with

fallback as (

    select count(*) as fallback_rows
    from {{ ref('service_resource_defaults') }}
    where service_name = '__default__'

),

final as (

    select
        fallback_rows,
        'service_resource_defaults needs exactly one __default__ row' as problem
    from fallback
    where fallback_rows != 1

)

select * from final
