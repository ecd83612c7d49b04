-- Grain: one row per feature-flag evaluation recorded on a received span: the OpenTelemetry
-- `feature_flag.evaluation` event, or the older `feature_flag` span event.
-- Guarantees: the semantic conventions' `feature_flag.*` attributes as columns (the older
-- names where the newer are missing), and `is_off` exactly as rule 13 reads an evaluation
-- (int_spans_attributed reads the same result through `flag_keys_evaluated`).
with

events as (

    select * from {{ ref('stg_otel__span_events') }}
    where event_name in ('feature_flag.evaluation', 'feature_flag')

),

final as (

    select
        {{ span_address() }},
        event_index,
        trace_id,
        span_id,
        event_name,
        event_at,
        {{ otel_attribute('event_attributes', 'feature_flag.key') }} as flag_key,
        {{ otel_attribute('event_attributes', 'feature_flag.result.value') }} as result_value,
        {{ otel_attribute(
            'event_attributes', ['feature_flag.result.variant', 'feature_flag.variant']
        ) }} as result_variant,
        {{ otel_attribute(
            'event_attributes', ['feature_flag.result.reason', 'feature_flag.evaluation.reason']
        ) }} as result_reason,
        {{ otel_attribute(
            'event_attributes', ['feature_flag.provider.name', 'feature_flag.provider_name']
        ) }} as provider_name,
        {{ otel_attribute('event_attributes', 'feature_flag.context.id') }} as context_id,
        {{ otel_attribute('event_attributes', 'error.type') }} as error_type,
        coalesce(
            {{ flag_event_result('event_attributes') }} in ('false', 'off', 'disabled'), false
        ) as is_off
    from events

)

select * from final
