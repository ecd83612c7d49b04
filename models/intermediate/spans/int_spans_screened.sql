-- Grain: one row per span object received (as stg_otel__spans).
-- Guarantees: each span gets exactly one `span_status`: `quarantined` (with the reason from
-- staging), `duplicate` (a later delivery of a (trace_id, span_id) already received, with
-- the same content), `conflicting_duplicate` (a later delivery with the same ids but other
-- content: times, names, attributes or events differ) or `accepted`. Of several deliveries
-- the first in file and line order is kept, whatever their content (the Collector's files
-- sort by the time they were written); `kept_delivery` names it on the later ones.
-- Downstream models read `accepted`. A table rebuilt on every run (the one span model that is
-- not incremental by day): a redelivery can arrive for any day.
{{ config(materialized='table') }}
with

spans as (

    -- The typed columns only: the raw attribute and event lists stay in staging
    -- (stg_otel__span_attributes, stg_otel__span_events), so no table copies them.
    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        parent_span_id,
        trace_state,
        span_name,
        span_kind,
        status_code,
        status_message,
        start_ns,
        end_ns,
        scope_name,
        service_name,
        cloud_region,
        host_type,
        feature_id,
        feature_group_attribute,
        tenant_id,
        feature_variant,
        db_system,
        server_address,
        db_rows_returned,
        gen_ai_request_model,
        gen_ai_input_tokens,
        gen_ai_output_tokens,
        cpu_cores_attribute,
        memory_gb_attribute,
        gpu_count_attribute,
        db_query_event_count,
        start_at,
        end_at,
        start_day,
        sampling_weight,
        quarantine_reason,
        content_fingerprint
    from {{ ref('stg_otel__spans') }}

),

ranked as (

    select
        *,
        row_number() over deliveries as delivery_number,
        first_value(content_fingerprint) over deliveries as kept_fingerprint,
        first_value(filename) over deliveries as kept_filename,
        first_value(line_number) over deliveries as kept_line_number
    from spans
    window deliveries as (
        partition by trace_id, span_id, quarantine_reason is null
        order by filename, line_number, resource_index, scope_index, span_index
    )

),

final as (

    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        parent_span_id,
        trace_state,
        span_name,
        span_kind,
        status_code,
        status_message,
        start_ns,
        end_ns,
        scope_name,
        service_name,
        cloud_region,
        host_type,
        feature_id,
        feature_group_attribute,
        tenant_id,
        feature_variant,
        db_system,
        server_address,
        db_rows_returned,
        gen_ai_request_model,
        gen_ai_input_tokens,
        gen_ai_output_tokens,
        cpu_cores_attribute,
        memory_gb_attribute,
        gpu_count_attribute,
        db_query_event_count,
        start_at,
        end_at,
        start_day,
        sampling_weight,
        quarantine_reason,
        case
            when quarantine_reason is null and delivery_number > 1
                then kept_filename || ':' || cast(kept_line_number as {{ dbt.type_string() }})
        end as kept_delivery,
        case
            when quarantine_reason is not null then 'quarantined'
            when delivery_number > 1 and content_fingerprint != kept_fingerprint
                then 'conflicting_duplicate'
            when delivery_number > 1 then 'duplicate'
            else 'accepted'
        end as span_status
    from ranked

)

select * from final
