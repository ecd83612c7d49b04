-- Grain: one row per attribute of every received span (resource and span attributes).
-- Guarantees: every attribute of every value type is available as text, for questions
-- the typed columns of stg_otel__spans do not answer.
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

resource_level as (

    select
        {{ span_address('spans') }},
        spans.trace_id,
        spans.span_id,
        'resource' as attribute_scope,
        attribute_index,
        key_value.key as attribute_key,
        key_value.value as attribute_value
    from spans
    cross join {{ unnest_with_ordinality(
        'spans.resource_attributes', 'key_value', 'attribute_index'
    ) }}

),

span_level as (

    select
        {{ span_address('spans') }},
        spans.trace_id,
        spans.span_id,
        'span' as attribute_scope,
        attribute_index,
        key_value.key as attribute_key,
        key_value.value as attribute_value
    from spans
    cross join {{ unnest_with_ordinality(
        'spans.span_attributes', 'key_value', 'attribute_index'
    ) }}

),

final as (

    select * from resource_level
    union all
    select * from span_level

)

select * from final
