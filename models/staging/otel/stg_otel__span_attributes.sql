-- Grain: one row per attribute of every received span (resource and span attributes).
-- Guarantees: every attribute of every value type is available as text, for questions
-- the typed columns of stg_otel__spans do not answer.
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

final as (

    {% for scope in ['resource', 'span'] %}
        select
            {{ span_address('spans') }},
            spans.trace_id,
            spans.span_id,
            '{{ scope }}' as attribute_scope,
            attribute_index,
            key_value.key as attribute_key,
            key_value.value as attribute_value
        from spans
        cross join {{ unnest_with_ordinality(
            'spans.' ~ scope ~ '_attributes', 'key_value', 'attribute_index'
        ) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
