-- Grain: one row per (date_day, feature_id, tenant_id, feature_variant).
-- Guarantees: A/B variants roll up to their feature (feature_cost_margin has no variant in
-- its grain); this model keeps the variant as a column so a variant with its own backend
-- cost can be compared. Direct cost at rate-card prices; the rows of a feature sum to its
-- direct cost estimate before pools (work outside any variant has variant `__none__`).
with

costs as (

    select * from {{ ref('int_span_costs_by_feature_day') }}

),

final as (

    select
        date_day,
        feature_id,
        tenant_id,
        coalesce(feature_variant, '__none__') as feature_variant,
        {{ exact_sum("invocation_count") }} as request_count,
        {{ exact_sum("query_count") }} as query_count,
        {{ exact_sum("busy_ns") }} / 1e6 as busy_ms,
        {{ exact_sum(
            "coalesce(cpu_cost, 0) + coalesce(memory_cost, 0) + coalesce(gpu_cost, 0)"
            ~ " + coalesce(db_query_cost, 0) + coalesce(llm_cost, 0)"
        ) }} as estimated_direct_cost,
        {{ safe_divide(
            exact_sum(
                'coalesce(cpu_cost, 0) + coalesce(memory_cost, 0) + coalesce(gpu_cost, 0)'
                ~ ' + coalesce(db_query_cost, 0) + coalesce(llm_cost, 0)'
            ),
            exact_sum('invocation_count')
        ) }} as estimated_cost_per_request
    from costs
    group by all

)

select * from final
