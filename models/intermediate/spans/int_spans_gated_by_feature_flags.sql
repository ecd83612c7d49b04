-- Grain: one row per accepted span (as int_spans_attributed_to_features).
-- Guarantees (rule 6): work of a feature that requires a flag, whose invocation started
-- while the flag was off for its tenant, moves to `__flag_off__`; `gated_feature_id` keeps
-- the feature it ran for (its rate card still prices it, and flag_leakage lists it). The flag
-- state at an instant is the latest change at or before it that applies to the tenant (its
-- own or a global one); a feature with no recorded change before the work counts as on.
-- Incremental by the span's start day (see macros/incremental/day_window.sql).
{{ config(
    partition_by=day_partition('start_day'),
    cluster_by=bigquery_cluster_by(['feature_id', 'tenant_id'])
) }}
{%- set window = day_window() %}
with

spans as (

    select * from {{ ref('int_spans_attributed_to_features') }}
    where {{ in_day_window('start_day', window) }}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

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

    select
        spans.trace_id,
        spans.span_id,
        spans.feature_id,
        spans.tenant_id,
        spans.invocation_start_ns
    from spans
    inner join taxonomy
        on spans.feature_id = taxonomy.feature_id
    where taxonomy.requires_feature_flag

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
            and (flag_changes.tenant_id is null or gated_spans.tenant_id = flag_changes.tenant_id)

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
        spans.trace_id,
        spans.span_id,
        spans.parent_span_id,
        spans.is_in_parent_cycle,
        spans.span_name,
        spans.span_kind,
        spans.service_name,
        spans.cloud_region,
        spans.host_type,
        spans.start_ns,
        spans.end_ns,
        spans.start_day,
        case
            when flag_state.is_enabled = false then '__flag_off__' else spans.feature_id
        end as feature_id,
        spans.feature_id as gated_feature_id,
        coalesce(flag_state.is_enabled = false, false) as is_flag_off,
        spans.tenant_id,
        spans.feature_variant,
        spans.invocation_start_ns,
        spans.attribution_basis,
        spans.is_feature_span,
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
    left join flag_state
        on
            spans.trace_id = flag_state.trace_id
            and spans.span_id = flag_state.span_id

)

select * from final
