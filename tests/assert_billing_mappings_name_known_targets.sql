-- A mapping to a shared resource must name one in shared_resources, or its billed cost
-- would have nowhere to go. Returns each mapping whose target is unknown.
select
    mappings.match_on,
    mappings.tag_key,
    mappings.match_value,
    mappings.target_id
from {{ ref('billing_mappings') }} as mappings
left join {{ ref('shared_resources') }} as resources
    on mappings.target_id = resources.resource_id
where mappings.target_type = 'shared_resource' and resources.resource_id is null
