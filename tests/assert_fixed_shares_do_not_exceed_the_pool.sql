-- The fixed shares of a resource may not give away more than 100% of it, and only
-- `fixed_pct` resources take fixed shares. Returns each offending resource.
with

shares as (

    select
        resource_id,
        sum(share_pct) as total_pct,
        min(share_pct) as smallest_pct
    from {{ ref('shared_resource_fixed_shares') }}
    group by resource_id

),

final as (

    select
        shares.resource_id,
        shares.total_pct,
        resources.allocation_key
    from shares
    left join {{ ref('shared_resources') }} as resources
        on shares.resource_id = resources.resource_id
    where
        shares.total_pct > 100
        or shares.smallest_pct < 0
        or resources.allocation_key is distinct from 'fixed_pct'

)

select * from final
