-- Grain: one row per item the cost model could not use: a span with a quarantine reason, a
-- later delivery of a span whose content conflicts with the one kept
-- (`conflicting_duplicate`), or a line or file that could not be decoded (`invalid_json`,
-- `invalid_utf8`, `unexpected_shape`, `unreadable_file`).
-- Guarantees: nothing bad is dropped silently; each item names its file, line and reason
-- (and a detail where there is one), and is dated (date_day) by the span's start when it is
-- within bounds, else by the earliest sound span in its file (null when the file has none).
with

-- file_days reads int_spans_screened a second time, for three columns: DuckDB keeps a copy
-- of a CTE that is read twice, which here would be every span of the history on every run.
spans as (

    select * from {{ ref('int_spans_screened') }}

),

items as (

    select
        {{ span_address() }},
        start_day,
        trace_id,
        span_id,
        span_name,
        service_name,
        coalesce(quarantine_reason, span_status) as quarantine_reason,
        case
            when span_status = 'conflicting_duplicate'
                then 'differs from the delivery kept at ' || kept_delivery
        end as quarantine_detail
    from spans
    where span_status in ('quarantined', 'conflicting_duplicate')

),
{%- if var('span_source') == 'otlp_json' %}

    bad_line_items as (

        select
            filename,
            line_number,
            line_outcome as quarantine_reason,
            coalesce(line_detail, line_excerpt) as quarantine_detail
        from {{ ref('stg_otel__otlp_lines') }}
        where
            line_outcome in (
                'invalid_json', 'invalid_utf8', 'unexpected_shape', 'unreadable_file'
            )

    ),
{%- endif %}

file_days as (

    {{ file_days(
        ref('int_spans_screened'),
        ['items', 'bad_line_items'] if var('span_source') == 'otlp_json' else ['items']
    ) }}

),

quarantined_spans as (

    select
        coalesce(items.start_day, file_days.file_day) as date_day,
        {{ span_address('items') }},
        items.trace_id,
        items.span_id,
        items.span_name,
        items.service_name,
        items.quarantine_reason,
        items.quarantine_detail
    from items
    left join file_days using (filename)

),

bad_lines as (

    {% if var('span_source') == 'otlp_json' -%}
        select
            file_days.file_day as date_day,
            bad_line_items.filename,
            bad_line_items.line_number,
            0 as resource_index,
            0 as scope_index,
            0 as span_index,
            cast(null as {{ dbt.type_string() }}) as trace_id,
            cast(null as {{ dbt.type_string() }}) as span_id,
            cast(null as {{ dbt.type_string() }}) as span_name,
            cast(null as {{ dbt.type_string() }}) as service_name,
            bad_line_items.quarantine_reason,
            bad_line_items.quarantine_detail
        from bad_line_items
        left join file_days using (filename)
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
