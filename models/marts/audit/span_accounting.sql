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
{{ config(**bigquery_layout('date_day')) }}

with

-- The screened spans are read apart, each read once (twice here, and for OTLP/JSON input
-- once more by file_days): DuckDB keeps a copy of a CTE that is read twice, which here
-- would be every span of the history.
screened_counts as (

    select
        start_day,
        raw_start_day,
        span_status,
        count(*) as span_count
    from {{ ref('int_spans_screened') }}
    group by all

),

spans_without_start as (

    select
        {{ span_address() }},
        span_status
    from {{ ref('int_spans_screened') }}
    where start_day is null

),

quarantine as (

    select * from {{ ref('span_quarantine') }}

),

dated_statuses as (

    -- Every span screened with the day it is counted on: its start day, else (a span with no
    -- start in bounds, always quarantined) the day span_quarantine gives it.
    select
        start_day as date_day,
        span_status,
        span_count
    from screened_counts
    where start_day is not null

    union all

    select
        quarantine.date_day,
        spans_without_start.span_status,
        1 as span_count
    from spans_without_start
    left join quarantine using (filename, line_number, resource_index, scope_index, span_index)

),

status_days as (

    select
        date_day,
        sum(span_count) as spans_screened,
        sum(case when span_status = 'accepted' then span_count else 0 end) as spans_accepted,
        sum(
            case when span_status = 'quarantined' then span_count else 0 end
        ) as spans_quarantined,
        sum(
            case when span_status = 'duplicate' then span_count else 0 end
        ) as duplicates_removed,
        sum(
            case when span_status = 'conflicting_duplicate' then span_count else 0 end
        ) as conflicting_duplicates,
        sum(
            case
                when
                    span_status not in (
                        'accepted', 'quarantined', 'duplicate', 'conflicting_duplicate'
                    )
                    then span_count
                else 0
            end
        ) as spans_of_unknown_status
    from dated_statuses
    group by date_day

),

outcome_days as (

    -- What became of the accepted spans attributed so far (by the same start day).
    select
        start_day as date_day,
        count(*) as spans_with_outcome,
        sum(
            case
                when feature_id not in ('__unattributed__', '__flag_off__') then 1 else 0
            end
        ) as spans_attributed,
        sum(case when feature_id = '__unattributed__' then 1 else 0 end) as spans_unattributed,
        sum(case when feature_id = '__flag_off__' then 1 else 0 end) as spans_flag_off,
        sum(case when feature_id = '__linked__' then 1 else 0 end) as spans_linked,
        sum(case when is_in_parent_cycle then 1 else 0 end) as spans_in_parent_cycles
    from {{ ref('int_spans_attributed') }}
    group by start_day

),

span_days as (

    select
        status_days.date_day,
        status_days.spans_screened as spans_received,
        coalesce(outcome_days.spans_attributed, 0) as spans_attributed,
        coalesce(outcome_days.spans_unattributed, 0) as spans_unattributed,
        coalesce(outcome_days.spans_flag_off, 0) as spans_flag_off,
        status_days.spans_quarantined,
        status_days.duplicates_removed,
        status_days.conflicting_duplicates,
        -- Accepted, but its day lies before the window the last run rebuilt: a late
        -- arrival that a backfill of its day will attribute.
        greatest(
            status_days.spans_accepted - coalesce(outcome_days.spans_with_outcome, 0), 0
        ) as spans_awaiting_backfill,
        -- Never anything: a status no rule knows, or more outcomes than accepted spans.
        status_days.spans_of_unknown_status
        + greatest(
            coalesce(outcome_days.spans_with_outcome, 0) - status_days.spans_accepted, 0
        ) as spans_unaccounted,
        coalesce(outcome_days.spans_in_parent_cycles, 0) as spans_in_parent_cycles,
        coalesce(outcome_days.spans_linked, 0) as spans_linked
    from status_days
    left join outcome_days using (date_day)

),

link_days as (

    -- Links whose work went to `__unattributed__` (rule 12), and the linked spans part of whose
    -- batch came with no link, by the linking span's start day.
    select
        start_day as date_day,
        sum(case when link_resolution = 'not_received' then link_count else 0 end)
            as links_not_received,
        sum(case when link_resolution = 'too_deep' then link_count else 0 end) as links_too_deep,
        -- A linked span has one `not_linked` share at most (one feature, tenant and variant).
        sum(case when link_resolution = 'not_linked' then 1 else 0 end)
            as spans_with_unlinked_messages
    from {{ ref('int_span_link_shares') }}
    group by start_day

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
        sum(span_count) as spans_screened
    from screened_counts
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
        -- Spans with no readable start day (quarantined) are matched too.
        on received_days.raw_start_day is not distinct from screened_days.raw_start_day
    where received_days.spans_received > coalesce(screened_days.spans_screened, 0)

),

{% if var('span_source') == 'otlp_json' -%}
    line_outcomes as (

        select
            filename,
            line_outcome
        from {{ ref('stg_otel__otlp_lines') }}
        where line_outcome != 'spans'

    ),

    file_days as (

        {{ file_days(ref('int_spans_screened'), ['line_outcomes']) }}

    ),

    line_days as (

        select
            file_days.file_day as date_day,
            sum(
                case
                    when
                        line_outcomes.line_outcome in (
                            'invalid_json', 'invalid_utf8', 'unexpected_shape',
                            'unreadable_file'
                        )
                        then 1
                    else 0
                end
            ) as lines_quarantined,
            sum(
                case when line_outcomes.line_outcome = 'no_spans' then 1 else 0 end
            ) as lines_without_spans,
            sum(case when line_outcomes.line_outcome = 'blank' then 1 else 0 end) as lines_blank
        from line_outcomes
        left join file_days using (filename)
        group by file_days.file_day

    ),
{%- else -%}
    line_days as (

        -- Table inputs have no lines.
        select
            cast(null as date) as date_day,
            0 as lines_quarantined,
            0 as lines_without_spans,
            0 as lines_blank
        from screened_counts
        where false

    ),
{%- endif %}

final as (

    select
        date_day,
        coalesce(span_days.spans_received, 0)
        + coalesce(unscreened_days.spans_unscreened, 0) as spans_received,
        {{ zero_if_absent('span_days', [
            'spans_attributed', 'spans_unattributed', 'spans_flag_off', 'spans_quarantined',
            'duplicates_removed', 'conflicting_duplicates'
        ]) }},
        coalesce(span_days.spans_awaiting_backfill, 0)
        + coalesce(unscreened_days.spans_unscreened, 0) as spans_awaiting_backfill,
        {{ zero_if_absent(
            'span_days', ['spans_unaccounted', 'spans_in_parent_cycles', 'spans_linked']
        ) }},
        {{ zero_if_absent('link_days', [
            'links_not_received', 'links_too_deep', 'spans_with_unlinked_messages'
        ]) }},
        {{ zero_if_absent(
            'line_days', ['lines_quarantined', 'lines_without_spans', 'lines_blank']
        ) }}
    from span_days
    full outer join unscreened_days using (date_day)
    full outer join line_days using (date_day)
    left join link_days using (date_day)

)

select * from final
