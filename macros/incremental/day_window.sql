{% macro day_window() %}
    {#- The UTC days this run of an incremental span model rebuilds, as
        {'start': 'YYYY-MM-DD' or none, 'end': 'YYYY-MM-DD' or none} (end exclusive; none
        means unbounded). --full-refresh rebuilds everything, and so does a first build. A
        backfill (`--event-time-start` / `--event-time-end`) rebuilds exactly those whole
        days; given to a first build, it builds only those days, so a long history can be
        built in batches of days, oldest first, each later batch a backfill (that first
        batch's window has `first_build` true: no rows of the model exist yet). Any
        other incremental run rebuilds from the latest day already in the model minus the
        var `lookback_days`, onwards. A model may widen its window to whole days its new
        rows touch (see get_incremental_day_window_sql). -#}
    {%- set everything = {'start': none, 'end': none} -%}
    {%- set override = var('day_window_override', none) -%}
    {%- if override is mapping -%}
        {#- Fixed window for offline compiles (no warehouse to ask): see check-bigquery. -#}
        {{ return({'start': override.get('start'), 'end': override.get('end')}) }}
    {%- endif -%}
    {%- if not execute or this is none -%}
        {{ return(everything) }}
    {%- endif -%}
    {%- set backfill_start = invocation_args_dict.get('event_time_start') -%}
    {%- set backfill_end = invocation_args_dict.get('event_time_end') -%}
    {%- if not is_incremental() -%}
        {%- if backfill_start and backfill_end and not flags.FULL_REFRESH -%}
            {%- set first_batch = backfill_day_window(backfill_start, backfill_end) -%}
            {%- do first_batch.update({'first_build': true}) -%}
            {{ return(first_batch) }}
        {%- endif -%}
        {{ return(everything) }}
    {%- endif -%}
    {%- if backfill_start and backfill_end -%}
        {{ return(backfill_day_window(backfill_start, backfill_end)) }}
    {%- endif -%}
    {%- set lookback = var('lookback_days') -%}
    {%- if lookback is not number or lookback < 0 or lookback != lookback | int -%}
        {{ exceptions.raise_compiler_error(
            "var lookback_days must be a whole number of days >= 0, got '" ~ lookback ~ "'"
        ) }}
    {%- endif -%}
    {%- set day_column = (config.get('meta') or {}).get('day_window_column') -%}
    {%- if not day_column -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ this ~ " uses day_window() but sets no meta.day_window_column config"
        ) }}
    {%- endif -%}
    {#- The latest day is read from `day_window_anchor` (default: the day column): a model
        keyed by usage day anchors on the span start day like the models it reads. -#}
    {%- set anchor_column = (config.get('meta') or {}).get('day_window_anchor') or day_column -%}
    {%- set existing_columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- for column in [day_column, anchor_column] -%}
        {%- if column | lower not in existing_columns -%}
            {{ exceptions.raise_compiler_error(
                "model " ~ this ~ " was built without its day column '" ~ column
                ~ "' (an older version of this project): rebuild it once with --full-refresh"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set latest = run_query(
        'select max(' ~ anchor_column ~ ') from ' ~ this
    ).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return(everything) }}
    {%- endif -%}
    {%- set latest_day = modules.datetime.date.fromisoformat((latest | string)[:10]) -%}
    {%- set start_day = latest_day - modules.datetime.timedelta(days=lookback | int) -%}
    {#- A model that rolls up the usage days of another (keyed by start day) also rebuilds
        the days that model's spans reach before its own latest day. -#}
    {%- if (config.get('meta') or {}).get('day_window_widen_by_span_reach') -%}
        {%- set start_day = start_day - modules.datetime.timedelta(days=span_reach_days()) -%}
    {%- endif -%}
    {{ return({'start': start_day.isoformat(), 'end': none}) }}
{% endmacro %}

{% macro backfill_day_window(event_time_start, event_time_end) %}
    {#- Whole UTC days covering [event_time_start, event_time_end): the start's day, up to
        the end's day (exclusive), or the day after it when the end has a time of day. -#}
    {%- set start_at = modules.datetime.datetime.fromisoformat(event_time_start | string) -%}
    {%- set end_at = modules.datetime.datetime.fromisoformat(event_time_end | string) -%}
    {%- set end_day = end_at.date() -%}
    {%- if end_at.time() != modules.datetime.time(0, 0) -%}
        {%- set end_day = end_day + modules.datetime.timedelta(days=1) -%}
    {%- endif -%}
    {%- if end_day <= start_at.date() -%}
        {{ exceptions.raise_compiler_error(
            "backfill: --event-time-end (" ~ event_time_end ~ ") must be after "
            ~ "--event-time-start (" ~ event_time_start ~ ")"
        ) }}
    {%- endif -%}
    {{ return({'start': start_at.date().isoformat(), 'end': end_day.isoformat()}) }}
{% endmacro %}
