-- Grain: one row per accepted span.
-- Guarantees: every accepted span appears exactly once, with the feature and tenant its work
-- belongs to.
-- Rule 1 (attribution through the trace): a span's feature is its own `feature.id`, else
-- its nearest ancestor's in the same trace (walked down from each feature span); a span
-- outside every feature span belongs to the trace's feature when the trace carries exactly
-- one, otherwise to `__unattributed__`. The tenant and variant travel with the feature;
-- work with no tenant goes to `__shared__`. A span whose parent never arrived is a root, and
-- so is a span that is its own ancestor (a cycle of parent links): its `parent_span_id` is
-- null here and `is_in_parent_cycle` is true.
-- Rule 6 (feature flags): work of a feature that requires a flag, whose invocation started
-- while the flag was off for its tenant, moves to `__flag_off__`; `gated_feature_id` keeps
-- the feature it ran for (its rate card still prices it; flag_leakage lists it). The flag
-- state at an instant is the latest change at or before it that applies to the tenant (its
-- own, else a global one; at the same instant the tenant's own wins); a feature with no
-- recorded change before the work counts as on.
-- Rule 13 (the telemetry is the flag history): where a trace evaluated a gated feature's
-- flag (`feature_flag.evaluation` events; the flag key from the taxonomy, else the feature
-- id), its evaluations decide instead of the flag-history file: the feature's work in the
-- trace is flag-off when an evaluation came out off. A span that evaluated the flag off, in
-- a trace with no span of that feature, stands in for the feature span the middleware did
-- not open (`attribution_basis` `flag_evaluation`), so the handler's work is still counted
-- as that feature's flag-off invocation.
-- Rule 12 (span links): a span with links and no `feature.id` of its own (a batch
-- consumer or job linked to the spans whose messages it processed) does the work of the
-- linked spans' requests: it and the spans below it are marked `__linked__`, with
-- `link_span_id` naming the linked span, and int_span_link_shares splits their work over
-- the linked spans' features and tenants. Links win over the trace (an ancestor's feature);
-- a span's own `feature.id` wins over its links. A SERVER span with no parent id, in a trace
-- that names one feature, starts no linked work (a public endpoint's root, linked to its
-- caller's trace, above the feature span).
-- Incremental by the span's start day (see macros/incremental/day_window.sql): a run
-- rebuilds the spans that started in its window, reading the whole of each trace that has a
-- span there (from `trace_lookbehind_days` earlier).
{{ config(**bigquery_layout('start_day', ['feature_id', 'tenant_id'])) }}
{%- set window = day_window() %}
with recursive

screened as {{ not_materialized() }} (

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

    -- The spans of every trace that has a span in the window.
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
        feature_variant as own_feature_variant,
        db_system,
        sampling_weight,
        server_address,
        db_rows_returned,
        db_query_event_count,
        flag_keys_evaluated,
        flag_keys_evaluated_off,
        case when link_count > 0 then linked_spans end as linked_spans,
        {{ usage_attributes() }}
    from screened
    {%- if window.start %}
        where
            {{ in_day_window('start_day', window, var('trace_lookbehind_days')) }}
            and trace_id in (select window_traces.trace_id from window_traces)
    {%- endif %}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

),

gated_flags as (

    -- The features that require a flag, with the key their flag's evaluations carry.
    select
        feature_id,
        coalesce(nullif(trim(feature_flag_key), ''), feature_id) as flag_key
    from taxonomy
    where requires_feature_flag

),

flag_evaluations as (

    -- Rule 13: each span's `feature_flag.evaluation` events of a gated feature's flag.
    select
        trace_spans.trace_id,
        trace_spans.span_id,
        trace_spans.own_feature_id,
        gated_flags.feature_id,
        strpos(
            concat(',', coalesce(trace_spans.flag_keys_evaluated_off, ''), ','),
            concat(',', gated_flags.flag_key, ',')
        ) > 0 as is_off
    from trace_spans
    inner join gated_flags
        on
            strpos(
                concat(',', trace_spans.flag_keys_evaluated, ','),
                concat(',', gated_flags.flag_key, ',')
            ) > 0
    where trace_spans.flag_keys_evaluated is not null

),

trace_flag_verdicts as (

    -- A trace that evaluated a gated feature's flag: off when an evaluation came out off.
    select
        trace_id,
        feature_id,
        max(case when is_off then 1 else 0 end) = 1 as is_evaluated_off
    from flag_evaluations
    group by trace_id, feature_id

),

traces_with_feature_spans as (

    select distinct
        trace_id,
        own_feature_id as feature_id
    from trace_spans
    where
        own_feature_id is not null
        and trace_id in (
            select flag_evaluations.trace_id from flag_evaluations
            where flag_evaluations.is_off
        )

),

flag_stand_ins as (

    -- A span with no feature of its own that evaluated a gated feature's flag off, in a
    -- trace with no span of that feature: the request ran the feature's handler without
    -- opening its feature span (the method's middleware runs the handler anyway when the
    -- flag is off). The span stands in for the feature span: its work and the work below
    -- it are that feature's invocation, which rule 6 then moves to `__flag_off__`.
    select
        flag_evaluations.trace_id,
        flag_evaluations.span_id,
        min(flag_evaluations.feature_id) as feature_id
    from flag_evaluations
    left join traces_with_feature_spans using (trace_id, feature_id)
    where
        flag_evaluations.is_off
        and flag_evaluations.own_feature_id is null
        and traces_with_feature_spans.trace_id is null
    group by flag_evaluations.trace_id, flag_evaluations.span_id

),

spans_with_stand_ins as {{ not_materialized() }} (

    select
        trace_spans.*,
        coalesce(trace_spans.own_feature_id, flag_stand_ins.feature_id) as invoked_feature_id,
        flag_stand_ins.span_id is not null as is_flag_stand_in
    from trace_spans
    left join flag_stand_ins using (trace_id, span_id)

),

public_endpoint_roots as (

    -- SERVER spans with links and no parent id, in a trace whose spans name exactly one
    -- feature: a server root that links to its caller's trace, as a public endpoint does,
    -- above the feature span. It is that trace's ingress, whose work is the trace's (rule 1).
    select
        roots.trace_id,
        roots.span_id
    from trace_spans as roots
    inner join spans_with_stand_ins as named
        on roots.trace_id = named.trace_id
    where
        roots.linked_spans is not null
        and roots.parent_span_id is null
        and roots.span_kind = 'SERVER'
        and named.invoked_feature_id is not null
    group by roots.trace_id, roots.span_id
    having count(distinct named.invoked_feature_id) = 1

),

tree_nodes as (

    -- A span with links and no feature of its own starts linked work (rule 12), but for a
    -- public endpoint's root. A batch consumer's root (CONSUMER) and a job's consumer step
    -- below its feature span are linked work.
    select
        spans.*,
        spans.invoked_feature_id is null
        and spans.linked_spans is not null
        and public_endpoint_roots.span_id is null as starts_linked_work
    from spans_with_stand_ins as spans
    left join public_endpoint_roots using (trace_id, span_id)

),

span_tree as (

    -- The parent links and own feature of each span: the recursive walks join only these
    -- narrow rows on every step (the attributes are joined back once, below).
    select
        trace_id,
        span_id,
        parent_span_id,
        start_ns,
        case when starts_linked_work then '__linked__' else invoked_feature_id end
            as own_feature_id,
        case when starts_linked_work then '__linked__' else own_tenant_id end as own_tenant_id,
        own_feature_variant
    from tree_nodes

),

{{ parent_cycle_ctes('span_tree') }}

tree as (

    select
        span_tree.*,
        spans_in_parent_cycles.span_id is not null as is_in_parent_cycle
    from span_tree
    left join spans_in_parent_cycles using (trace_id, span_id)

),

lineage as (

    -- Each span at or below a feature span, with its nearest feature span.
    select
        trace_id,
        span_id,
        span_id as feature_span_id,
        own_feature_id as feature_id,
        own_tenant_id as tenant_id,
        own_feature_variant as feature_variant,
        start_ns as feature_start_ns,
        0 as depth_below_feature_span
    from tree
    where own_feature_id is not null

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
    inner join tree as child
        on
            lineage.trace_id = child.trace_id
            and lineage.span_id = child.parent_span_id
    where child.own_feature_id is null and not child.is_in_parent_cycle

),

trace_features as (

    -- The trace's feature, where it carries exactly one (linked work is not a feature), and
    -- its tenant and variant where its feature spans agree on one (a job's feature spans for
    -- two tenants leave the job's own spans to their own tenant, else `__shared__`).
    select
        trace_id,
        min(feature_id) as trace_feature_id,
        case when count(distinct tenant_id) = 1 then min(tenant_id) end
            as trace_feature_tenant_id,
        -- The tenant whose flag history gates those spans: one of the feature spans' (the
        -- job's overhead runs, or does not, with its feature).
        min(tenant_id) as trace_feature_flag_tenant_id,
        case when count(distinct feature_variant) = 1 then min(feature_variant) end
            as trace_feature_variant,
        min(feature_start_ns) as trace_feature_start_ns
    from lineage
    where depth_below_feature_span = 0 and feature_id != '__linked__'
    group by trace_id
    having count(distinct feature_id) = 1

),

trace_tenants as (

    -- The trace's tenant, where its spans name exactly one.
    select
        trace_id,
        min(own_tenant_id) as trace_tenant_id
    from span_tree
    where own_tenant_id is not null and own_tenant_id != '__linked__'
    group by trace_id
    having count(distinct own_tenant_id) = 1

),

attributed as (

    select
        spans.*,
        spans_in_parent_cycles.span_id is not null as is_in_parent_cycle,
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
        coalesce(
            lineage.tenant_id,
            trace_features.trace_feature_flag_tenant_id,
            spans.own_tenant_id,
            trace_tenants.trace_tenant_id,
            '__shared__'
        ) as flag_tenant_id,
        coalesce(lineage.feature_variant, trace_features.trace_feature_variant) as feature_variant,
        coalesce(
            lineage.feature_start_ns, trace_features.trace_feature_start_ns
        ) as invocation_start_ns,
        case
            when lineage.feature_id = '__linked__' then 'link'
            when spans.is_flag_stand_in then 'flag_evaluation'
            when lineage.depth_below_feature_span = 0 then 'own'
            when lineage.feature_id is not null then 'ancestor'
            when trace_features.trace_feature_id is not null then 'trace'
            else 'none'
        end as attribution_basis,
        coalesce(
            lineage.depth_below_feature_span = 0 and lineage.feature_id != '__linked__', false
        ) as is_feature_span,
        case when lineage.feature_id = '__linked__' then lineage.feature_span_id end
            as link_span_id
    from spans_with_stand_ins as spans
    left join spans_in_parent_cycles using (trace_id, span_id)
    left join lineage using (trace_id, span_id)
    left join trace_features using (trace_id)
    left join trace_tenants using (trace_id)
    where {{ in_day_window('spans.start_day', window) }}

),

flag_changes as (

    select
        feature_id,
        tenant_id,
        is_enabled,
        {{ timestamp_to_nanos('changed_at') }} as changed_ns
    from {{ ref('stg_app__feature_flags') }}

),

gated_spans as (

    -- Work of a gated feature whose trace did not evaluate its flag: the file decides.
    select
        attributed.trace_id,
        attributed.span_id,
        attributed.feature_id,
        attributed.flag_tenant_id,
        attributed.invocation_start_ns
    from attributed
    inner join gated_flags using (feature_id)
    left join trace_flag_verdicts using (trace_id, feature_id)
    where trace_flag_verdicts.trace_id is null

),

applicable_changes as (

    select
        gated_spans.trace_id,
        gated_spans.span_id,
        flag_changes.is_enabled,
        row_number() over (
            partition by gated_spans.trace_id, gated_spans.span_id
            order by
                flag_changes.changed_ns desc,
                -- At the same instant a tenant's own change outranks a global one.
                case when flag_changes.tenant_id is null then 1 else 0 end
        ) as recency_rank
    from gated_spans
    inner join flag_changes
        on
            gated_spans.feature_id = flag_changes.feature_id
            and gated_spans.invocation_start_ns >= flag_changes.changed_ns
            and (
                flag_changes.tenant_id is null
                or gated_spans.flag_tenant_id = flag_changes.tenant_id
            )

),

flag_state as (

    select
        trace_id,
        span_id,
        is_enabled
    from applicable_changes
    where recency_rank = 1

),

final as (

    select
        attributed.trace_id,
        attributed.span_id,
        case
            when not attributed.is_in_parent_cycle then attributed.parent_span_id
        end as parent_span_id,
        attributed.is_in_parent_cycle,
        attributed.span_name,
        attributed.span_kind,
        attributed.service_name,
        attributed.cloud_region,
        attributed.host_type,
        attributed.start_ns,
        attributed.end_ns,
        attributed.start_day,
        case
            when flag_verdicts.is_evaluated_off then '__flag_off__'
            when flag_verdicts.feature_id is not null then attributed.feature_id
            when flag_state.is_enabled = false then '__flag_off__'
            else attributed.feature_id
        end as feature_id,
        attributed.feature_id as gated_feature_id,
        coalesce(
            flag_verdicts.is_evaluated_off,
            flag_state.is_enabled = false,
            false
        ) as is_flag_off,
        attributed.tenant_id,
        attributed.feature_variant,
        attributed.invocation_start_ns,
        attributed.attribution_basis,
        attributed.is_feature_span,
        attributed.link_span_id,
        case
            when attributed.link_span_id = attributed.span_id then attributed.linked_spans
        end as linked_spans,
        attributed.db_system,
        attributed.sampling_weight,
        attributed.server_address,
        attributed.db_rows_returned,
        attributed.db_query_event_count,
        {{ usage_attributes('attributed') }}
    from attributed
    left join trace_flag_verdicts as flag_verdicts using (trace_id, feature_id)
    left join flag_state using (trace_id, span_id)

)

select * from final
