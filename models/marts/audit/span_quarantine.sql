-- Grain: one row per item the cost model could not use: a span with a quarantine reason, a
-- later delivery of a span whose content conflicts with the one kept
-- (`conflicting_duplicate`), or a line or file that could not be decoded (`invalid_json`,
-- `invalid_utf8`, `unexpected_shape`, `unreadable_file`).
-- Guarantees: nothing bad is dropped silently; each item names its file, line and reason
-- (and a detail where there is one), and is dated (date_day) by the span's start when it is
-- within bounds, else by the earliest sound span in its file (null when the file has none).
with

spans as (

    select * from {{ ref('int_spans_screened') }}

),

file_days as (

    select
        filename,
        min(start_day) as file_day
    from spans
    where quarantine_reason is null
    group by filename

),

quarantined_spans as (

    select
        coalesce(spans.start_day, file_days.file_day) as date_day,
        spans.filename,
        spans.line_number,
        spans.resource_index,
        spans.scope_index,
        spans.span_index,
        spans.trace_id,
        spans.span_id,
        spans.span_name,
        spans.service_name,
        coalesce(spans.quarantine_reason, spans.span_status) as quarantine_reason,
        case
            when spans.span_status = 'conflicting_duplicate'
                then 'differs from the delivery kept at ' || spans.kept_delivery
        end as quarantine_detail
    from spans
    left join file_days
        on spans.filename = file_days.filename
    where spans.span_status in ('quarantined', 'conflicting_duplicate')

),

bad_lines as (

    {% if var('span_source') == 'otlp_json' -%}
        select
            file_days.file_day as date_day,
            otlp_lines.filename,
            otlp_lines.line_number,
            0 as resource_index,
            0 as scope_index,
            0 as span_index,
            cast(null as {{ dbt.type_string() }}) as trace_id,
            cast(null as {{ dbt.type_string() }}) as span_id,
            cast(null as {{ dbt.type_string() }}) as span_name,
            cast(null as {{ dbt.type_string() }}) as service_name,
            otlp_lines.line_outcome as quarantine_reason,
            coalesce(otlp_lines.line_detail, otlp_lines.line_excerpt) as quarantine_detail
        from {{ ref('stg_otel__otlp_lines') }} as otlp_lines
        left join file_days
            on otlp_lines.filename = file_days.filename
        where
            otlp_lines.line_outcome in (
                'invalid_json', 'invalid_utf8', 'unexpected_shape', 'unreadable_file'
            )
    {%- else -%}
        -- Table inputs have no lines that could be corrupt.
        select * from quarantined_spans
        where false
    {%- endif %}

),

final as (

    select * from quarantined_spans
    union all
    select * from bad_lines

)

select * from final
