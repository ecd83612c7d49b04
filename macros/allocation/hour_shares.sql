{#- Rule 14 spreads a span-day over the UTC hours it ran in. Use
    `cross join {{ hours_touched(start, end) }}` (one row per hour, column `hour_number`)
    and weigh the span-day's quantities by `{{ hour_share(start, end, busy, children) }}`;
    the shares of one span-day sum to 1. -#}
{% macro hours_touched(start_ns, end_ns) %}
    {{ integers_between(
        nanos_to_hour_number(start_ns),
        nanos_to_hour_number('greatest(' ~ start_ns ~ ', ' ~ end_ns ~ ' - 1)'),
        'hour_number'
    ) }}
{% endmacro %}

{% macro hour_share(start_ns, end_ns, busy_ns, child_intervals) %}
    {#- The span-day's share in the hour of its own busy time `busy_ns` (its elapsed time
        [start_ns, end_ns) in the day less `child_intervals`, the merged intervals its
        same-service children ran in): where children ran is not the span's work. Within one
        hour, or for a span-day that took no time, 1 (the hour it started; its list is not
        read, as it holds nothing there); with no busy time of its own, its share of the
        elapsed time. Without children (a null or empty list) its busy time is its elapsed
        time, so the last branch gives that share too. -#}
    {%- set hour_start = 'hour_number * 3600000000000' -%}
    {%- set hour_end = '(hour_number + 1) * 3600000000000' -%}
    case
        when
            {{ end_ns }} <= {{ start_ns }}
            or {{ nanos_to_hour_number(start_ns) }}
            = {{ nanos_to_hour_number(end_ns ~ ' - 1') }}
            then 1
        when {{ busy_ns }} <= 0
            then {{ overlap_nanos(start_ns, end_ns, hour_start, hour_end) }}
            / cast({{ end_ns }} - {{ start_ns }} as {{ type_double() }})
        else (
            {{ overlap_nanos(start_ns, end_ns, hour_start, hour_end) }}
            - {{ intervals_overlap_nanos(child_intervals, hour_start, hour_end) }}
        ) / cast({{ busy_ns }} as {{ type_double() }})
    end
{% endmacro %}
