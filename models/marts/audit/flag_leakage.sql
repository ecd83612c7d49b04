-- Grain: one row per (date_day, feature_id, service_name, span_name) with work that ran
-- while the feature's flag was off.
-- Guarantees (rule 6): lists every "zombie path", the code that kept running and tagging
-- spans after its feature was switched off, with its cost at the feature's rate card, so
-- the value of removing dead code can be shown. The cost is the rate-card estimate of every
-- component before pools and capacity sharing (rule 14): what the path costs on capacity
-- of its own, so at least the `__flag_off__` compute the mart charges for it.
with

priced as (

    select * from {{ ref('int_span_days_priced') }}
    where feature_id = '__flag_off__'

),

final as (

    select
        priced.date_day,
        priced.gated_feature_id as feature_id,
        priced.service_name,
        priced.span_name,
        count(distinct priced.tenant_id) as tenant_count,
        -- A span-day split over linked shares (rule 12) is still one span-day.
        count(distinct concat(priced.trace_id, ':', priced.span_id)) as span_day_count,
        {{ exact_sum("priced.count_weight * priced.invocation_count") }} as invocation_count,
        {{ exact_sum("priced.count_weight * priced.busy_ns") }} / 1e6 as busy_ms,
        {{ exact_sum(
            "coalesce(priced.cpu_cost, 0) + coalesce(priced.memory_cost, 0)"
            ~ " + coalesce(priced.gpu_cost, 0) + coalesce(priced.db_query_cost, 0)"
            ~ " + coalesce(priced.llm_cost, 0)"
        ) }} as estimated_cost
    from priced
    group by all

)

select * from final
