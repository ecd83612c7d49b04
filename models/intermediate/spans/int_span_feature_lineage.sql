-- Grain: one row per accepted span that is a feature span or lies below one in its trace.
-- Guarantees: each such span points at its nearest feature span (itself when it carries
-- `feature.id`), so a downstream call that carries only the trace context inherits the
-- feature and tenant set at the ingress (rule 1). Spans outside any feature span are absent
-- here; int_spans_attributed_to_features decides their feature. A span that is its own
-- ancestor (a cycle of parent links) is a root: its parent link is not followed.
-- Incremental by the span's start day (see macros/incremental/day_window.sql): a run
-- rebuilds the spans that started in its window, walking the whole of each trace that has
-- a span there.
{{ config(
    partition_by=day_partition('start_day'),
    cluster_by=bigquery_cluster_by(['feature_id', 'tenant_id'])
) }}
{%- set window = day_window() %}
with recursive

screened as (

    select * from {{ ref('int_spans_screened') }}
    where span_status = 'accepted'

),
{% if window.start %}
    window_traces as (

        select distinct trace_id from screened
        where {{ in_day_window('start_day', window) }}

    ),
{% endif %}
trace_spans as (

    select
        trace_id,
        span_id,
        parent_span_id,
        feature_id,
        tenant_id,
        feature_variant,
        start_ns,
        start_day
    from screened
    {%- if window.start %}
        where
            {{ in_day_window('start_day', window, var('trace_lookbehind_days')) }}
            and trace_id in (select window_traces.trace_id from window_traces)
    {%- endif %}

),

{{ parent_cycle_ctes('trace_spans') }}

spans as (

    select
        trace_spans.trace_id,
        trace_spans.span_id,
        case
            when spans_in_parent_cycles.span_id is null then trace_spans.parent_span_id
        end as parent_span_id,
        trace_spans.feature_id,
        trace_spans.tenant_id,
        trace_spans.feature_variant,
        trace_spans.start_ns,
        trace_spans.start_day
    from trace_spans
    left join spans_in_parent_cycles
        on
            trace_spans.trace_id = spans_in_parent_cycles.trace_id
            and trace_spans.span_id = spans_in_parent_cycles.span_id

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
        start_day,
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
        child.start_day,
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
    where {{ in_day_window('start_day', window) }}

)

select * from final
