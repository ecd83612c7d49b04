-- Grain: one row per UTC day (the day a span started; see span_quarantine for how items
-- without a start are dated).
-- Guarantees: nothing lost. Every span object received is counted once as attributed (to a
-- feature), unattributed, flag_off, quarantined, a duplicate removed or awaiting a backfill
-- (a late arrival for a day an incremental run had moved past), so
-- spans_received = spans_attributed + spans_unattributed + spans_flag_off
-- + spans_quarantined + duplicates_removed + spans_awaiting_backfill on every day; lines
-- that were not valid JSON (and so held spans that could not be counted) are in
-- `lines_quarantined`.
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
        feature_id
    from {{ ref('int_spans_gated_by_feature_flags') }}

),

quarantine as (

    select * from {{ ref('span_quarantine') }}

),

classified as (

    select
        coalesce(spans.start_day, quarantine.date_day) as date_day,
        case
            when spans.span_status = 'quarantined' then 'quarantined'
            when spans.span_status = 'duplicate' then 'duplicate'
            when gated.feature_id = '__unattributed__' then 'unattributed'
            when gated.feature_id = '__flag_off__' then 'flag_off'
            when gated.feature_id is not null then 'attributed'
            -- Accepted, but its day lies before the window the last run rebuilt: a late
            -- arrival that a backfill of its day will attribute.
            when spans.span_status = 'accepted' then 'awaiting_backfill'
        end as outcome
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
        sum(case when outcome = 'awaiting_backfill' then 1 else 0 end) as spans_awaiting_backfill,
        sum(case when outcome is null then 1 else 0 end) as spans_unaccounted
    from classified
    group by date_day

),

line_days as (

    select
        date_day,
        count(*) as lines_quarantined
    from quarantine
    where quarantine_reason = 'invalid_json'
    group by date_day

),

final as (

    select
        coalesce(span_days.date_day, line_days.date_day) as date_day,
        coalesce(span_days.spans_received, 0) as spans_received,
        coalesce(span_days.spans_attributed, 0) as spans_attributed,
        coalesce(span_days.spans_unattributed, 0) as spans_unattributed,
        coalesce(span_days.spans_flag_off, 0) as spans_flag_off,
        coalesce(span_days.spans_quarantined, 0) as spans_quarantined,
        coalesce(span_days.duplicates_removed, 0) as duplicates_removed,
        coalesce(span_days.spans_awaiting_backfill, 0) as spans_awaiting_backfill,
        coalesce(span_days.spans_unaccounted, 0) as spans_unaccounted,
        coalesce(line_days.lines_quarantined, 0) as lines_quarantined
    from span_days
    full outer join line_days
        on span_days.date_day = line_days.date_day

)

select * from final
