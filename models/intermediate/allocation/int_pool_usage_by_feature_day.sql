-- Grain: one row per (date_day, resource_id, feature_id, tenant_id) with work in the shared
-- resource's scope on a day the resource has a cost.
-- Guarantees: every allocation key's driver quantity for the same work, so a pool can be
-- split by its own key and, for the honest range, by the plausible alternatives. The
-- `cost_weighted` driver (rule 4) is the rate-card cost of each feature's own
-- allocation_strategy driver: features measured by different drivers stay comparable.
with

costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}

),

resources as (

    select * from {{ ref('shared_resources') }}

),

pool_days as (

    select * from {{ ref('int_shared_resource_costs_by_day') }}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

),

in_scope as (

    select
        pool_days.date_day,
        resources.resource_id,
        costs.feature_id,
        costs.tenant_id,
        costs.span_day_count,
        costs.query_count,
        costs.rows_scanned,
        costs.busy_ms,
        costs.memory_gb_ms,
        costs.gpu_minutes,
        case coalesce(taxonomy.allocation_strategy, 'proportional_duration')
            when 'proportional_duration' then costs.cpu_cost + costs.memory_cost
            when 'proportional_queries' then costs.db_query_cost
            when 'gpu_minutes' then costs.gpu_cost
            when 'memory_usage' then costs.memory_cost
        end as strategy_driver_cost
    from costs
    inner join resources
        on {{ span_in_pool_scope('costs', 'resources') }}
    inner join pool_days using (resource_id, date_day)
    left join taxonomy
        on costs.gated_feature_id = taxonomy.feature_id

),

final as (

    select
        date_day,
        resource_id,
        feature_id,
        tenant_id,
        sum(span_day_count) as span_day_count,
        {{ exact_sums([
            "query_count", "rows_scanned", "busy_ms", "memory_gb_ms", "gpu_minutes",
            "strategy_driver_cost"
        ]) }}
    from in_scope
    group by all

)

select * from final
