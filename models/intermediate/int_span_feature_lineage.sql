-- Grain: one row per accepted span that is a feature span or lies below one in its trace.
-- Guarantees: each such span points at its nearest feature span (itself when it carries
-- `feature.id`), so a downstream call that carries only the trace context inherits the
-- feature and tenant set at the ingress (rule 1). Spans outside any feature span are absent
-- here; int_spans_attributed_to_features decides their feature.
with recursive

spans as (

    select
        trace_id,
        span_id,
        parent_span_id,
        feature_id,
        tenant_id,
        feature_variant,
        start_ns
    from {{ ref('int_spans_screened') }}
    where span_status = 'accepted'

),

lineage as (

    select
        trace_id,
        span_id,
        span_id as feature_span_id,
        feature_id,
        tenant_id,
        feature_variant,
        start_ns as feature_start_ns,
        0 as depth_below_feature_span
    from spans
    where feature_id is not null

    union all

    select
        child.trace_id,
        child.span_id,
        lineage.feature_span_id,
        lineage.feature_id,
        lineage.tenant_id,
        lineage.feature_variant,
        lineage.feature_start_ns,
        lineage.depth_below_feature_span + 1 as depth_below_feature_span
    from lineage
    inner join spans as child
        on
            lineage.trace_id = child.trace_id
            and lineage.span_id = child.parent_span_id
    where child.feature_id is null

),

final as (

    select * from lineage

)

select * from final
