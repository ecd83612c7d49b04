-- Grain: one row per allocated charge: (date_day, resource_id, feature_id, tenant_id), as
-- shared_cost_allocation.
-- Guarantees: the allocation of shared resources in the shape of FinOps FOCUS 1.3 split cost
-- allocation, so FOCUS-based tools can read it: each origin charge (a shared resource's cost
-- on a day) is split into allocated charges whose costs sum to the origin and whose
-- `AllocatedRatio` values sum to 1; `AllocatedMethodId` names the allocation key and
-- `AllocatedMethodDetails` carries ratio, unit and quantity; Tags keep the origin's keys
-- (`feature-cost/resource-id`) and add the feature, group and tenant.
{{ config(materialized='view') }}

with

allocations as (

    select * from {{ ref('shared_cost_allocation') }}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

),

final as (

    select
        cast(allocations.date_day as {{ dbt.type_timestamp() }})
            as {{ adapter.quote('ChargePeriodStart') }},
        cast({{ dbt.dateadd('day', 1, 'allocations.date_day') }} as {{ dbt.type_timestamp() }})
            as {{ adapter.quote('ChargePeriodEnd') }},
        'Usage' as {{ adapter.quote('ChargeCategory') }},
        'Usage-Based' as {{ adapter.quote('ChargeFrequency') }},
        allocations.allocated_cost as {{ adapter.quote('BilledCost') }},
        allocations.allocated_cost as {{ adapter.quote('EffectiveCost') }},
        allocations.pool_cost as x_origin_cost,
        allocations.currency as {{ adapter.quote('BillingCurrency') }},
        allocations.resource_id as {{ adapter.quote('ResourceId') }},
        allocations.resource_type as {{ adapter.quote('ResourceType') }},
        'feature-cost shared resources' as {{ adapter.quote('ServiceName') }},
        allocations.feature_id || '/' || allocations.tenant_id
            as {{ adapter.quote('AllocatedResourceId') }},
        allocations.feature_id as {{ adapter.quote('AllocatedResourceName') }},
        allocations.allocation_key as {{ adapter.quote('AllocatedMethodId') }},
        {{ json_to_text(
            "json_object('Elements', json_array(json_object("
            ~ "'AllocatedRatio', allocations.allocation_share, "
            ~ "'UsageUnit', allocations.allocation_key, "
            ~ "'UsageQuantity', allocations.driver_quantity)))"
        ) }} as {{ adapter.quote('AllocatedMethodDetails') }},
        {{ json_to_text(
            "json_object('feature-cost/resource-id', allocations.resource_id, "
            ~ "'feature.id', allocations.feature_id, "
            ~ "'feature.group', coalesce(taxonomy.feature_group, allocations.feature_id), "
            ~ "'tenant.id', allocations.tenant_id)"
        ) }} as {{ adapter.quote('Tags') }},
        allocations.allocation_share as x_allocated_ratio,
        allocations.resource_id || '/' || cast(allocations.date_day as {{ dbt.type_string() }})
        || '/' || allocations.feature_id || '/' || allocations.tenant_id as x_allocation_id
    from allocations
    left join taxonomy using (feature_id)

)

select * from final
