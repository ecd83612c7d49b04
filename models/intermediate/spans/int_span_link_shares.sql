-- Grain: one row per span that starts linked work (rule 12) and feature, tenant and variant
-- its links lead to (with how the links were resolved).
-- Guarantees: a linked span's shares sum to 1. Each link weighs the number of messages it
-- stands for (`messaging.batch.message_count` on the link, else 1), and the messages of a
-- batch that came with no link (the span's own `messaging.batch.message_count` beyond its
-- links') go to `__unattributed__` and `__shared__` (`not_linked`); a link takes the
-- linked span's attribution after flag gating (rule 6, 13), so the consumer's share of a
-- flag-off request is flag-off too. A linked span whose own work is linked work passes its
-- share on through its links in turn, up to `max_link_hops` links deep. A link to a span
-- not received (`not_received`), or a chain deeper than that (`too_deep`), goes to
-- `__unattributed__` and `__shared__`; span_accounting counts those links.
-- Incremental by the linked span's start day: a run resolves the linked spans that started
-- in its window, against the spans (and linked spans) of the `trace_lookbehind_days`
-- before. A link to a span that arrives after its consumer's day was built stays
-- unresolved until a backfill of that day.
{{ config(**bigquery_layout('start_day', ['trace_id'])) }}
{%- set window = day_window() %}
{%- set max_hops = var('max_link_hops') | int %}
with recursive

attributed as (

    select * from {{ ref('int_spans_attributed') }}
    where {{ in_day_window('start_day', window, var('trace_lookbehind_days')) }}

),

linked_spans as (

    -- The spans that start linked work, with their links.
    select
        trace_id,
        span_id,
        start_day,
        linked_spans
    from attributed
    where linked_spans is not null

),

link_weights as (

    select
        linked_spans.trace_id,
        linked_spans.span_id,
        linked_spans.start_day,
        span_link.linked_trace_id,
        span_link.linked_span_id,
        {{ link_weight('span_link.message_count') }} as link_weight
    from linked_spans
    cross join {{ unnest_with_ordinality(
        'linked_spans.linked_spans', 'span_link', 'link_position'
    ) }}

),

link_edges as (

    -- Each link with its part of the linked span's work.
    select
        trace_id,
        span_id,
        start_day,
        linked_trace_id,
        linked_span_id,
        link_weight / sum(link_weight) over (partition by trace_id, span_id) as link_share
    from link_weights

),

linked_ids as (

    -- The ids of the spans linked to, named as the key they join attributed spans on.
    select distinct
        linked_trace_id as trace_id,
        linked_span_id as span_id
    from link_edges

),

link_targets as (

    -- The linked spans' attribution (after flag gating).
    select
        attributed.trace_id,
        attributed.span_id,
        attributed.feature_id,
        attributed.gated_feature_id,
        attributed.is_flag_off,
        attributed.tenant_id,
        attributed.feature_variant,
        attributed.link_span_id
    from attributed
    inner join linked_ids using (trace_id, span_id)

),

link_paths as (

    -- From each linked span of the window through its links; a link to linked work goes on
    -- through that work's links.
    select
        trace_id,
        span_id,
        start_day,
        linked_trace_id,
        linked_span_id,
        link_share,
        1 as hops
    from link_edges
    where {{ in_day_window('start_day', window) }}

    union all

    select
        link_paths.trace_id,
        link_paths.span_id,
        link_paths.start_day,
        next_link.linked_trace_id,
        next_link.linked_span_id,
        link_paths.link_share * next_link.link_share as link_share,
        link_paths.hops + 1 as hops
    from link_paths
    inner join link_targets
        on
            link_paths.linked_trace_id = link_targets.trace_id
            and link_paths.linked_span_id = link_targets.span_id
    inner join link_edges as next_link
        on
            link_targets.trace_id = next_link.trace_id
            and link_targets.link_span_id = next_link.span_id
    where link_targets.feature_id = '__linked__' and link_paths.hops < {{ max_hops }}

),

resolved as (

    -- The paths that end: at a span with an attribution, at a span not received, or at
    -- linked work `max_link_hops` deep.
    select
        link_paths.trace_id,
        link_paths.span_id,
        link_paths.start_day,
        link_paths.linked_span_id,
        link_paths.link_share,
        case
            when link_paths.linked_span_id is null then 'not_linked'
            when link_targets.span_id is null then 'not_received'
            when link_targets.feature_id = '__linked__' then 'too_deep'
            else 'received'
        end as link_resolution,
        case
            when link_targets.feature_id != '__linked__' then link_targets.feature_id
            else '__unattributed__'
        end as feature_id,
        case
            when link_targets.feature_id != '__linked__' then link_targets.gated_feature_id
            else '__unattributed__'
        end as gated_feature_id,
        coalesce(
            link_targets.feature_id != '__linked__' and link_targets.is_flag_off, false
        ) as is_flag_off,
        case
            when link_targets.feature_id != '__linked__' then link_targets.tenant_id
            else '__shared__'
        end as tenant_id,
        case
            when link_targets.feature_id != '__linked__' then link_targets.feature_variant
        end as feature_variant
    from link_paths
    left join link_targets
        on
            link_paths.linked_trace_id = link_targets.trace_id
            and link_paths.linked_span_id = link_targets.span_id
    where
        link_targets.span_id is null
        or link_targets.feature_id != '__linked__'
        or link_paths.hops >= {{ max_hops }}

),

final as (

    select
        trace_id,
        span_id,
        start_day,
        row_number() over (
            partition by trace_id, span_id
            order by link_resolution, feature_id, gated_feature_id, tenant_id, feature_variant
        ) as share_number,
        link_resolution,
        feature_id,
        gated_feature_id,
        is_flag_off,
        tenant_id,
        feature_variant,
        count(linked_span_id) as link_count,
        {{ exact_sum("link_share") }} as attribution_share
    from resolved
    group by
        trace_id,
        span_id,
        start_day,
        link_resolution,
        feature_id,
        gated_feature_id,
        is_flag_off,
        tenant_id,
        feature_variant

)

select * from final
