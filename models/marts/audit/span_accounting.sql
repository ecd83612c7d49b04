-- Grain: one row per UTC day (the day a span started; see span_quarantine for how items
-- without a start are dated).
-- Guarantees: nothing lost. Every span object received is counted once as attributed (to a
-- feature), unattributed, flag_off, quarantined, a duplicate removed, a conflicting
-- duplicate or awaiting a backfill (a late arrival for a day an incremental run had moved
-- past), so spans_received = spans_attributed + spans_unattributed + spans_flag_off
-- + spans_quarantined + duplicates_removed + conflicting_duplicates
-- + spans_awaiting_backfill on every day. Every line is counted too: lines that could not
-- be decoded (and so held spans that could not be counted) in `lines_quarantined`, valid
-- lines without spans in `lines_without_spans`, whitespace-only lines in `lines_blank`.
{{ config(
    partition_by=day_partition('date_day')
) }}

with

spans as (

    select * from {{ ref('int_spans_screened') }}

),

gated as (

    select
        trace_id,
        span_id,
        feature_id,
        is_in_parent_cycle
    from {{ ref('int_spans_attributed') }}

),

quarantine as (

    select * from {{ ref('span_quarantine') }}

),

file_days as (

    -- Lines are dated by the earliest sound span in their file, as in span_quarantine.
    select
        filename,
        min(start_day) as file_day
    from spans
    where quarantine_reason is null
    group by filename

),

classified as (

    select
        coalesce(spans.start_day, quarantine.date_day) as date_day,
        case
            when spans.span_status = 'quarantined' then 'quarantined'
            when spans.span_status = 'duplicate' then 'duplicate'
            when spans.span_status = 'conflicting_duplicate' then 'conflicting_duplicate'
            when gated.feature_id = '__unattributed__' then 'unattributed'
            when gated.feature_id = '__flag_off__' then 'flag_off'
            when gated.feature_id is not null then 'attributed'
            -- Accepted, but its day lies before the window the last run rebuilt: a late
            -- arrival that a backfill of its day will attribute.
            when spans.span_status = 'accepted' then 'awaiting_backfill'
        end as outcome,
        coalesce(gated.is_in_parent_cycle, false) as is_in_parent_cycle
    from spans
    left join gated
        on
            spans.trace_id = gated.trace_id
            and spans.span_id = gated.span_id
            and spans.span_status = 'accepted'
    left join quarantine
        on
            spans.filename = quarantine.filename
            and spans.line_number = quarantine.line_number
            and spans.resource_index = quarantine.resource_index
            and spans.scope_index = quarantine.scope_index
            and spans.span_index = quarantine.span_index

),

span_days as (

    select
        date_day,
        count(*) as spans_received,
        sum(case when outcome = 'attributed' then 1 else 0 end) as spans_attributed,
        sum(case when outcome = 'unattributed' then 1 else 0 end) as spans_unattributed,
        sum(case when outcome = 'flag_off' then 1 else 0 end) as spans_flag_off,
        sum(case when outcome = 'quarantined' then 1 else 0 end) as spans_quarantined,
        sum(case when outcome = 'duplicate' then 1 else 0 end) as duplicates_removed,
        sum(
            case when outcome = 'conflicting_duplicate' then 1 else 0 end
        ) as conflicting_duplicates,
        sum(case when outcome = 'awaiting_backfill' then 1 else 0 end) as spans_awaiting_backfill,
        sum(case when outcome is null then 1 else 0 end) as spans_unaccounted,
        sum(case when is_in_parent_cycle then 1 else 0 end) as spans_in_parent_cycles
    from classified
    group by date_day

),

received_days as (

    -- Every span received, by the start day it was sent with.
    select
        raw_start_day,
        count(*) as spans_received
    from {{ ref('stg_otel__spans') }}
    group by raw_start_day

),

screened_days as (

    select
        raw_start_day,
        count(*) as spans_screened
    from spans
    group by raw_start_day

),

unscreened_days as (

    -- Spans of days before the window of the last incremental run, which arrived after it
    -- had moved past them: received, not yet screened; a backfill of their days costs them.
    select
        received_days.raw_start_day as date_day,
        received_days.spans_received - coalesce(screened_days.spans_screened, 0)
            as spans_unscreened
    from received_days
    left join screened_days
        on received_days.raw_start_day = screened_days.raw_start_day
    where received_days.spans_received > coalesce(screened_days.spans_screened, 0)

),

line_days as (

    {% if var('span_source') == 'otlp_json' -%}
        select
            file_days.file_day as date_day,
            sum(
                case
                    when
                        otlp_lines.line_outcome in (
                            'invalid_json', 'invalid_utf8', 'unexpected_shape',
                            'unreadable_file'
                        )
                        then 1
                    else 0
                end
            ) as lines_quarantined,
            sum(
                case when otlp_lines.line_outcome = 'no_spans' then 1 else 0 end
            ) as lines_without_spans,
            sum(case when otlp_lines.line_outcome = 'blank' then 1 else 0 end) as lines_blank
        from {{ ref('stg_otel__otlp_lines') }} as otlp_lines
        left join file_days
            on otlp_lines.filename = file_days.filename
        where otlp_lines.line_outcome != 'spans'
        group by file_days.file_day
    {%- else -%}
        -- Table inputs have no lines.
        select
            cast(null as date) as date_day,
            0 as lines_quarantined,
            0 as lines_without_spans,
            0 as lines_blank
        from spans
        where false
    {%- endif %}

),

final as (

    select
        coalesce(span_days.date_day, unscreened_days.date_day, line_days.date_day) as date_day,
        coalesce(span_days.spans_received, 0)
        + coalesce(unscreened_days.spans_unscreened, 0) as spans_received,
        coalesce(span_days.spans_attributed, 0) as spans_attributed,
        coalesce(span_days.spans_unattributed, 0) as spans_unattributed,
        coalesce(span_days.spans_flag_off, 0) as spans_flag_off,
        coalesce(span_days.spans_quarantined, 0) as spans_quarantined,
        coalesce(span_days.duplicates_removed, 0) as duplicates_removed,
        coalesce(span_days.conflicting_duplicates, 0) as conflicting_duplicates,
        coalesce(span_days.spans_awaiting_backfill, 0)
        + coalesce(unscreened_days.spans_unscreened, 0) as spans_awaiting_backfill,
        coalesce(span_days.spans_unaccounted, 0) as spans_unaccounted,
        coalesce(span_days.spans_in_parent_cycles, 0) as spans_in_parent_cycles,
        coalesce(line_days.lines_quarantined, 0) as lines_quarantined,
        coalesce(line_days.lines_without_spans, 0) as lines_without_spans,
        coalesce(line_days.lines_blank, 0) as lines_blank
    from span_days
    full outer join unscreened_days
        on span_days.date_day = unscreened_days.date_day
    full outer join line_days
        on coalesce(span_days.date_day, unscreened_days.date_day) = line_days.date_day

)

select * from final
