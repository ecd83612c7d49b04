-- Grain: one row per accepted span and UTC day its exclusive time touches (a span with no
-- time still has one row, on the day it started).
-- Guarantees (rule 2): a parent's duration already contains its children's, so a span's
-- `busy_ns` is its own time minus the union of its same-service children's time; summed
-- over a service's spans in a trace this is the service's busy time, counted once. Time that
-- crosses midnight is split at the boundary; counts (invocations, queries, tokens) go to the
-- day the span started.
-- Incremental by the day the span started (`start_day`, see macros/incremental/day_window.sql); its
-- rows for later days are rebuilt with it.
{{ config(
    partition_by=day_partition('start_day'),
    cluster_by=bigquery_cluster_by(['feature_id', 'tenant_id'])
) }}
{%- set window = day_window() %}
with

gated as (

    select * from {{ ref('int_spans_gated_by_feature_flags') }}

),

spans as (

    select * from gated
    where {{ in_day_window('start_day', window) }}

),

children as (

    -- Same-service children, clipped to their parent's interval.
    select
        parent.trace_id,
        parent.span_id,
        greatest(child.start_ns, parent.start_ns) as start_ns,
        least(child.end_ns, parent.end_ns) as end_ns
    from gated as child
    inner join spans as parent
        on
            child.trace_id = parent.trace_id
            and child.parent_span_id = parent.span_id
            and child.service_name = parent.service_name
    where
        least(child.end_ns, parent.end_ns) > greatest(child.start_ns, parent.start_ns)
        and {{ in_day_window(
            'child.start_day', {'start': window.start, 'end': none},
            var('trace_lookbehind_days')
        ) }}

),

children_ordered as (

    select
        *,
        max(end_ns) over (
            partition by trace_id, span_id
            order by start_ns, end_ns
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end_ns
    from children

),

children_islands_numbered as (

    select
        *,
        sum(
            case
                when previous_max_end_ns is null or start_ns > previous_max_end_ns then 1 else 0
            end
        ) over (
            partition by trace_id, span_id
            order by start_ns, end_ns
            rows between unbounded preceding and current row
        ) as island_number
    from children_ordered

),

child_islands as (

    -- Overlapping children merged, so parallel calls are not subtracted twice.
    select
        trace_id,
        span_id,
        min(start_ns) as start_ns,
        max(end_ns) as end_ns
    from children_islands_numbered
    group by trace_id, span_id, island_number

),

span_days as (

    select
        spans.trace_id,
        spans.span_id,
        spans.start_ns,
        spans.end_ns,
        day_number,
        day_number * 86400000000000 as day_start_ns,
        (day_number + 1) * 86400000000000 as day_end_ns,
        day_number = {{ nanos_to_day_number('spans.start_ns') }} as is_start_day
    from spans
    cross join {{ integers_between(
        nanos_to_day_number('spans.start_ns'),
        nanos_to_day_number('greatest(spans.start_ns, spans.end_ns - 1)'),
        'day_number'
    ) }}

),

children_per_day as (

    select
        span_days.trace_id,
        span_days.span_id,
        span_days.day_number,
        sum({{ overlap_nanos(
            'child_islands.start_ns', 'child_islands.end_ns',
            'span_days.day_start_ns', 'span_days.day_end_ns'
        ) }}) as children_ns
    from span_days
    inner join child_islands
        on
            span_days.trace_id = child_islands.trace_id
            and span_days.span_id = child_islands.span_id
    group by span_days.trace_id, span_days.span_id, span_days.day_number

),

final as (

    select
        span_days.trace_id,
        span_days.span_id,
        {{ day_number_to_date('span_days.day_number') }} as date_day,
        spans.start_day,
        spans.service_name,
        spans.cloud_region,
        spans.host_type,
        spans.feature_id,
        spans.gated_feature_id,
        spans.tenant_id,
        spans.feature_variant,
        {{ overlap_nanos(
            'span_days.start_ns', 'span_days.end_ns',
            'span_days.day_start_ns', 'span_days.day_end_ns'
        ) }} - coalesce(children_per_day.children_ns, 0) as busy_ns,
        case
            when not span_days.is_start_day then 0
            when spans.is_feature_span then 1
            else 0
        end as invocation_count,
        case
            when not span_days.is_start_day then 0
            when spans.db_query_event_count > 0 then spans.db_query_event_count
            when spans.span_kind = 'CLIENT' and spans.db_system is not null then 1
            else 0
        end as query_count,
        case
            when span_days.is_start_day then coalesce(spans.gen_ai_input_tokens, 0) else 0
        end as input_tokens,
        case
            when span_days.is_start_day then coalesce(spans.gen_ai_output_tokens, 0) else 0
        end as output_tokens,
        case
            when span_days.is_start_day then coalesce(spans.db_rows_returned, 0) else 0
        end as rows_scanned,
        spans.server_address,
        coalesce(spans.sampling_weight, 1) as sampling_weight,
        spans.gen_ai_request_model,
        spans.cpu_cores_attribute,
        spans.memory_gb_attribute,
        spans.gpu_count_attribute
    from span_days
    inner join spans
        on
            span_days.trace_id = spans.trace_id
            and span_days.span_id = spans.span_id
    left join children_per_day
        on
            span_days.trace_id = children_per_day.trace_id
            and span_days.span_id = children_per_day.span_id
            and span_days.day_number = children_per_day.day_number

)

select * from final
