{% macro span_reach_days() %}
    {#- How many days past its start day a span's usage can reach: a span lasts at most
        `max_span_duration_hours` (longer ones are quarantined). -#}
    {{ return(((var('max_span_duration_hours', 24) | float) / 24) | round(0, 'ceil') | int) }}
{% endmacro %}

{% macro usage_day_window(window) %}
    {#- The usage days a run rebuilds for the start days of `window` (see day_window): the
        same days, and in a backfill (a window with an end) the days its spans reach after
        the end as well. -#}
    {%- if not window.end -%}
        {{ return(window) }}
    {%- endif -%}
    {{ return({
        'start': window.start,
        'end': (modules.datetime.date.fromisoformat(window.end)
            + modules.datetime.timedelta(days=span_reach_days())).isoformat()
    }) }}
{% endmacro %}
