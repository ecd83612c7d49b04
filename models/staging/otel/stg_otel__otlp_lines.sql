-- Grain: one row per line of every OTLP/JSON file read (line 0 for a file that could not be
-- read at all). Read when the var `span_source` is `otlp_json`.
-- Guarantees: every line has exactly one `line_outcome`: `spans` (it held span objects),
-- `no_spans` (valid, but no span objects: `line_detail` says `no_resource_spans` or
-- `no_spans`), `blank` (whitespace only; skipped), or a reason to quarantine it:
-- `invalid_json`, `invalid_utf8`, `unexpected_shape` (valid JSON that is not a TracesData
-- object, or whose span lists are not lists: `line_detail` names the part; any sound spans
-- elsewhere on the line are still counted) or `unreadable_file`.
{{ config(enabled=var('span_source') == 'otlp_json') }}
with

lines as (

    select
        filename,
        line_number,
        line_status,
        line_excerpt
    from {{ ref('base_otel__otlp_lines') }}

),

notes as (

    select
        filename,
        line_number,
        line_note,
        line_excerpt
    from {{ ref('base_otel__spans') }}
    where line_note is not null

),

shape_problems as (

    select
        filename,
        line_number,
        min(line_note) as line_detail,
        min(line_excerpt) as line_excerpt
    from notes
    where line_note not in ('no_resource_spans', 'no_spans')
    group by filename, line_number

),

empty_parts as (

    -- Lines with an empty part: the line held no spans at all when no span row has it.
    select
        notes.filename,
        notes.line_number,
        min(notes.line_note) as line_detail
    from notes
    where
        notes.line_note in ('no_resource_spans', 'no_spans')
        and not exists (
            select 1
            from {{ ref('base_otel__spans') }} as spans
            where
                spans.filename = notes.filename
                and spans.line_number = notes.line_number
                and spans.line_note is null
        )
    group by notes.filename, notes.line_number

),

final as (

    select
        lines.filename,
        lines.line_number,
        case
            when lines.line_status != 'json' then lines.line_status
            when shape_problems.line_detail is not null then 'unexpected_shape'
            when empty_parts.line_detail is not null then 'no_spans'
            else 'spans'
        end as line_outcome,
        coalesce(shape_problems.line_detail, empty_parts.line_detail) as line_detail,
        -- The start of a line that could not be used, to see what it was.
        coalesce(lines.line_excerpt, shape_problems.line_excerpt) as line_excerpt
    from lines
    left join shape_problems using (filename, line_number)
    left join empty_parts using (filename, line_number)

)

select * from final
