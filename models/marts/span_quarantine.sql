-- Grain: one row per item the cost model could not use: a span with a quarantine reason,
-- or a line of a file that is not valid JSON (reason `invalid_json`).
-- Guarantees: nothing bad is dropped silently; each item names its file, line and reason,
-- and is dated (date_day) by the span's start, else by the earliest sound span in its file
-- (null when the file has none).
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
        spans.quarantine_reason
    from spans
    left join file_days
        on spans.filename = file_days.filename
    where spans.span_status = 'quarantined'

),

corrupt_lines as (

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
            'invalid_json' as quarantine_reason
        from {{ ref('base_otel__otlp_lines') }} as otlp_lines
        left join file_days
            on otlp_lines.filename = file_days.filename
        where not otlp_lines.is_valid_json
    {%- else -%}
        -- Table inputs have no lines that could be corrupt.
        select * from quarantined_spans
        where false
    {%- endif %}

),

final as (

    select * from quarantined_spans
    union all
    select * from corrupt_lines

)

select * from final
