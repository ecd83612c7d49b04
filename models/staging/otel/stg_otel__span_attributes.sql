-- Grain: one row per attribute of every received span (resource and span attributes).
-- Guarantees: every attribute of every value type is available as text, for questions
-- the typed columns of stg_otel__spans do not answer.
with

spans as (

    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        resource_attributes,
        span_attributes
    from {{ ref('stg_otel__spans') }}

),

resource_level as (

    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        'resource' as attribute_scope,
        unnest(resource_attributes) as key_value,
        generate_subscripts(resource_attributes, 1) as attribute_index
    from spans

),

span_level as (

    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        'span' as attribute_scope,
        unnest(span_attributes) as key_value,
        generate_subscripts(span_attributes, 1) as attribute_index
    from spans

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
        attribute_scope,
        cast(attribute_index as integer) as attribute_index,
        key_value.key as attribute_key,
        key_value.value as attribute_value
    from resource_level
    union all
    select
        filename,
        line_number,
        resource_index,
        scope_index,
        span_index,
        trace_id,
        span_id,
        attribute_scope,
        cast(attribute_index as integer) as attribute_index,
        key_value.key as attribute_key,
        key_value.value as attribute_value
    from span_level

)

select * from final
