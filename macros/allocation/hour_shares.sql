{#- Rule 14 spreads a span-day over the UTC hours it ran in, in proportion to its elapsed
    time in each; a span-day that took no time lies wholly in the hour it started. Use
    `cross join {{ hours_touched(start, end) }}` (one row per hour, column `hour_number`)
    and weigh the span-day's quantities by `{{ hour_share(start, end) }}`; the shares of
    one span-day sum to 1. -#}
{% macro hours_touched(start_ns, end_ns) %}
    {{ integers_between(
        nanos_to_hour_number(start_ns),
        nanos_to_hour_number('greatest(' ~ start_ns ~ ', ' ~ end_ns ~ ' - 1)'),
        'hour_number'
    ) }}
{% endmacro %}

{% macro hour_share(start_ns, end_ns) %}
    case
        when {{ end_ns }} > {{ start_ns }}
            then {{ overlap_nanos(
                start_ns, end_ns,
                'hour_number * 3600000000000', '(hour_number + 1) * 3600000000000'
            ) }} / cast({{ end_ns }} - {{ start_ns }} as {{ type_double() }})
        else 1
    end
{% endmacro %}
