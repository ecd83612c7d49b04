-- The method's quick-start query, on our staging: total span time per feature and a first
-- cost estimate at one flat price per millisecond, before any rate card or allocation.
-- Compare it with feature_cost_margin to see what attribution through the trace, nested-time
-- handling and rate cards change. Compile with `dbt compile -s quick_start_estimate`.
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

final as (

    select
        feature_id,
        sum(end_ns - start_ns) / 1e6 as total_ms,
        sum(end_ns - start_ns) / 1e6 * 0.000045 as estimated_cost
    from spans
    where feature_id is not null and quarantine_reason is null
    group by feature_id

)

select * from final
