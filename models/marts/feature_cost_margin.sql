-- Grain: one row per (date_day, feature_id, tenant_id), for every day, feature and tenant
-- with cost or revenue.
-- Guarantees: the public mart. Cost is carried per component and `total_cost` is their sum;
-- reserved buckets (`__unattributed__`) are rows like any other; margin follows rule 8
-- ((revenue - cost) / cost, null where cost is zero); every column keeps full precision.
with

direct_costs as (

    select * from {{ ref('int_direct_costs_by_feature_day') }}

),

revenue as (

    select * from {{ ref('stg_app__revenue') }}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

),

revenue_by_feature_day as (

    select
        date_day,
        feature_id,
        tenant_id,
        sum(revenue) as revenue
    from revenue
    group by date_day, feature_id, tenant_id

),

joined as (

    select
        coalesce(direct_costs.date_day, revenue_by_feature_day.date_day) as date_day,
        coalesce(direct_costs.feature_id, revenue_by_feature_day.feature_id) as feature_id,
        coalesce(direct_costs.tenant_id, revenue_by_feature_day.tenant_id) as tenant_id,
        coalesce(direct_costs.request_count, 0) as request_count,
        coalesce(direct_costs.query_count, 0) as query_count,
        coalesce(direct_costs.busy_ns, 0) / 1e6 as busy_ms,
        coalesce(direct_costs.cpu_cost, 0) as cpu_cost,
        coalesce(direct_costs.memory_cost, 0) as memory_cost,
        coalesce(direct_costs.gpu_cost, 0) as gpu_cost,
        coalesce(direct_costs.db_query_cost, 0) as db_query_cost,
        cast(coalesce(revenue_by_feature_day.revenue, 0) as {{ type_double() }}) as revenue
    from direct_costs
    full outer join revenue_by_feature_day
        on
            direct_costs.date_day = revenue_by_feature_day.date_day
            and direct_costs.feature_id = revenue_by_feature_day.feature_id
            and direct_costs.tenant_id = revenue_by_feature_day.tenant_id

),

totals as (

    select
        *,
        cpu_cost + memory_cost + gpu_cost + db_query_cost as total_cost
    from joined

),

final as (

    select
        totals.date_day,
        cast(case
            when starts_with(totals.feature_id, '__') then totals.feature_id
            else coalesce(taxonomy.feature_group, '__unknown__')
        end as {{ dbt.type_string() }}) as feature_group,
        cast(totals.feature_id as {{ dbt.type_string() }}) as feature_id,
        cast(totals.tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(totals.request_count as {{ dbt.type_bigint() }}) as request_count,
        cast(totals.query_count as {{ dbt.type_bigint() }}) as query_count,
        cast(totals.busy_ms as {{ type_double() }}) as busy_ms,
        cast(totals.cpu_cost as {{ type_double() }}) as cpu_cost,
        cast(totals.memory_cost as {{ type_double() }}) as memory_cost,
        cast(totals.gpu_cost as {{ type_double() }}) as gpu_cost,
        cast(totals.db_query_cost as {{ type_double() }}) as db_query_cost,
        cast(totals.total_cost as {{ type_double() }}) as total_cost,
        cast(totals.revenue as {{ type_double() }}) as revenue,
        cast(totals.revenue - totals.total_cost as {{ type_double() }}) as profit,
        cast(
            {{ safe_divide('totals.revenue - totals.total_cost', 'totals.total_cost') }}
            as {{ type_double() }}
        ) as margin,
        cast(
            {{ safe_divide('totals.total_cost', 'totals.request_count') }} as {{ type_double() }}
        ) as cost_per_request,
        cast('{{ var("currency") }}' as {{ dbt.type_string() }}) as currency
    from totals
    left join taxonomy
        on totals.feature_id = taxonomy.feature_id

)

select * from final
