{% macro linked_spans(links, trace_id, span_id) %}
    {#- A span's links as a list of {linked_trace_id, linked_span_id, message_count}: the ids
        normalized like the span's own (`otlp_id`; an id the link lacks reads as '', a
        span never received), and the number of messages the link stands for where it records
        one (`messaging.batch.message_count` on the link). A link to the span itself (ids
        `trace_id`, `span_id`) says nothing and is left out; null when no link is left. -#}
    {{ return(adapter.dispatch('linked_spans', 'feature_cost')(links, trace_id, span_id)) }}
{% endmacro %}

{% macro default__linked_spans(links, trace_id, span_id) %}
    case
        when len({{ links }}) > 0
            then nullif(list_filter(
                list_transform({{ links }}, lambda span_link: {
                    'linked_trace_id': coalesce({{ otlp_id('span_link.traceId', 16) }}, ''),
                    'linked_span_id': coalesce({{ otlp_id('span_link.spanId', 8) }}, ''),
                    'message_count': {{ batch_message_count('span_link.attributes') }}
                }),
                lambda span_link: not coalesce(
                    span_link.linked_trace_id = {{ trace_id }}
                    and span_link.linked_span_id = {{ span_id }},
                    false
                )
            ), [])
    end
{% endmacro %}

{% macro bigquery__linked_spans(links, trace_id, span_id) %}
    (
        select
            array_agg(struct(
                coalesce({{ otlp_id('span_link.traceId', 16) }}, '') as linked_trace_id,
                coalesce({{ otlp_id('span_link.spanId', 8) }}, '') as linked_span_id,
                {{ batch_message_count('span_link.attributes') }} as message_count
            ) order by link_position)
        from unnest({{ links }}) as span_link with offset as link_position
        where not coalesce(
            coalesce({{ otlp_id('span_link.traceId', 16) }}, '') = {{ trace_id }}
            and coalesce({{ otlp_id('span_link.spanId', 8) }}, '') = {{ span_id }},
            false
        )
    )
{% endmacro %}

{% macro link_count(links) %}
    {#- How many links a span carries (0 when none). -#}
    {{ return(adapter.dispatch('link_count', 'feature_cost')(links)) }}
{% endmacro %}

{% macro default__link_count(links) %}
    len({{ links }})
{% endmacro %}

{% macro bigquery__link_count(links) %}
    array_length({{ links }})
{% endmacro %}

{% macro link_weight(message_count) -%}
    {#- How many messages a link stands for: its `messaging.batch.message_count`, else 1. -#}
    case when {{ message_count }} > 0 then {{ message_count }} else 1 end
{%- endmacro %}

{% macro with_unlinked_messages(linked_spans, batch_count) %}
    {#- A span's links (from `linked_spans`) and, where the span's own
        `messaging.batch.message_count` says it processed more messages than its links stand
        for (a producer that sent no trace context), one more entry with null ids for the
        rest: their share of the span's work is no known producer's. Null without links. -#}
    {{ return(adapter.dispatch('with_unlinked_messages', 'feature_cost')(
        linked_spans, batch_count
    )) }}
{% endmacro %}

{% macro default__with_unlinked_messages(linked_spans, batch_count) %}
    {%- set linked_messages -%}
        list_sum(list_transform(
            {{ linked_spans }}, lambda span_link: {{ link_weight('span_link.message_count') }}
        ))
    {%- endset %}
    case
        when {{ batch_count }} > {{ linked_messages }}
            then list_append({{ linked_spans }}, {
                'linked_trace_id': cast(null as varchar),
                'linked_span_id': cast(null as varchar),
                'message_count': cast(
                    {{ batch_count }} - {{ linked_messages }} as {{ dbt.type_bigint() }}
                )
            })
        else {{ linked_spans }}
    end
{% endmacro %}

{% macro bigquery__with_unlinked_messages(linked_spans, batch_count) %}
    {%- set linked_messages -%}
        (
            select sum({{ link_weight('span_link.message_count') }})
            from unnest({{ linked_spans }}) as span_link
        )
    {%- endset %}
    case
        when {{ batch_count }} > {{ linked_messages }}
            then array_concat({{ linked_spans }}, [struct(
                cast(null as string) as linked_trace_id,
                cast(null as string) as linked_span_id,
                cast(
                    {{ batch_count }} - {{ linked_messages }} as {{ dbt.type_bigint() }}
                ) as message_count
            )])
        else {{ linked_spans }}
    end
{% endmacro %}

{% macro batch_message_count(attributes) -%}
    {#- `messaging.batch.message_count` in a span's or link's attributes as a whole number (a
        fraction is floored; null when absent, not a number or out of range). -#}
    {{ cast_or_null(
        'floor(' ~ cast_or_null(
            otel_attribute(attributes, 'messaging.batch.message_count'), type_double()
        ) ~ ')',
        dbt.type_bigint()
    ) }}
{%- endmacro %}
