-- Grain: one row per accepted span.
-- Guarantees (rule 1): a span's feature is its own `feature.id`, else its nearest ancestor's
-- in the same trace; a span outside every feature span belongs to the trace's feature when
-- the trace carries exactly one feature, otherwise to `__unattributed__`. The tenant travels
-- with the feature; work with no tenant goes to `__shared__`. Every accepted span appears
-- exactly once. A span that is its own ancestor (a cycle of parent links) is a root: its
-- `parent_span_id` is null here and `is_in_parent_cycle` is true.
-- Incremental by the span's start day (see macros/incremental/day_window.sql): a run
-- rebuilds the spans that started in its window, reading the whole of each trace that has
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
        span_name,
        span_kind,
        service_name,
        cloud_region,
        host_type,
        start_ns,
        end_ns,
        start_day,
        feature_id as own_feature_id,
        tenant_id as own_tenant_id,
        db_system,
        sampling_weight,
        server_address,
        db_rows_returned,
        db_query_event_count,
        gen_ai_request_model,
        gen_ai_input_tokens,
        gen_ai_output_tokens,
        cpu_cores_attribute,
        memory_gb_attribute,
        gpu_count_attribute
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
        trace_spans.*,
        spans_in_parent_cycles.span_id is not null as is_in_parent_cycle
    from trace_spans
    left join spans_in_parent_cycles
        on
            trace_spans.trace_id = spans_in_parent_cycles.trace_id
            and trace_spans.span_id = spans_in_parent_cycles.span_id

),

lineage as (

    select * from {{ ref('int_span_feature_lineage') }}
    {%- if window.start %}
        where trace_id in (select window_traces.trace_id from window_traces)
    {%- endif %}

),

trace_features as (

    -- The trace's feature, where it carries exactly one.
    select
        trace_id,
        min(feature_id) as trace_feature_id,
        min(tenant_id) as trace_feature_tenant_id,
        min(feature_variant) as trace_feature_variant,
        min(feature_start_ns) as trace_feature_start_ns
    from lineage
    where depth_below_feature_span = 0
    group by trace_id
    having count(distinct feature_id) = 1

),

trace_tenants as (

    -- The trace's tenant, where its spans name exactly one.
    select
        trace_id,
        min(own_tenant_id) as trace_tenant_id
    from spans
    where own_tenant_id is not null
    group by trace_id
    having count(distinct own_tenant_id) = 1

),

final as (

    select
        spans.trace_id,
        spans.span_id,
        case when not spans.is_in_parent_cycle then spans.parent_span_id end as parent_span_id,
        spans.is_in_parent_cycle,
        spans.span_name,
        spans.span_kind,
        spans.service_name,
        spans.cloud_region,
        spans.host_type,
        spans.start_ns,
        spans.end_ns,
        spans.start_day,
        coalesce(
            lineage.feature_id, trace_features.trace_feature_id, '__unattributed__'
        ) as feature_id,
        coalesce(
            lineage.tenant_id,
            trace_features.trace_feature_tenant_id,
            spans.own_tenant_id,
            trace_tenants.trace_tenant_id,
            '__shared__'
        ) as tenant_id,
        coalesce(lineage.feature_variant, trace_features.trace_feature_variant) as feature_variant,
        coalesce(
            lineage.feature_start_ns, trace_features.trace_feature_start_ns
        ) as invocation_start_ns,
        case
            when lineage.depth_below_feature_span = 0 then 'own'
            when lineage.feature_id is not null then 'ancestor'
            when trace_features.trace_feature_id is not null then 'trace'
            else 'none'
        end as attribution_basis,
        coalesce(lineage.depth_below_feature_span = 0, false) as is_feature_span,
        spans.db_system,
        spans.sampling_weight,
        spans.server_address,
        spans.db_rows_returned,
        spans.db_query_event_count,
        spans.gen_ai_request_model,
        spans.gen_ai_input_tokens,
        spans.gen_ai_output_tokens,
        spans.cpu_cores_attribute,
        spans.memory_gb_attribute,
        spans.gpu_count_attribute
    from spans
    left join lineage
        on
            spans.trace_id = lineage.trace_id
            and spans.span_id = lineage.span_id
    left join trace_features
        on spans.trace_id = trace_features.trace_id
    left join trace_tenants
        on spans.trace_id = trace_tenants.trace_id
    where {{ in_day_window('spans.start_day', window) }}

)

select * from final
