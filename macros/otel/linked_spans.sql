{% macro linked_spans(links) %}
    {#- A span's links as a list of {linked_trace_id, linked_span_id, message_count}: the ids
        normalized like the span's own (lowercase hex), and the number of messages the link
        stands for where it records one (`messaging.batch.message_count` on the link); null
        when the span has no links. -#}
    {{ return(adapter.dispatch('linked_spans', 'feature_cost')(links)) }}
{% endmacro %}

{% macro default__linked_spans(links) %}
    case
        when len({{ links }}) > 0
            then list_transform({{ links }}, lambda span_link: {
                'linked_trace_id': lower(trim(span_link.traceId)),
                'linked_span_id': lower(trim(span_link.spanId)),
                'message_count': {{ cast_or_null(
                    otel_attribute('span_link.attributes', 'messaging.batch.message_count'),
                    dbt.type_bigint()
                ) }}
            })
    end
{% endmacro %}

{% macro bigquery__linked_spans(links) %}
    (
        select
            array_agg(struct(
                lower(trim(span_link.traceId)) as linked_trace_id,
                lower(trim(span_link.spanId)) as linked_span_id,
                {{ cast_or_null(
                    otel_attribute('span_link.attributes', 'messaging.batch.message_count'),
                    dbt.type_bigint()
                ) }} as message_count
            ) order by link_position)
        from unnest({{ links }}) as span_link with offset as link_position
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
