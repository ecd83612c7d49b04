{% macro overlap_nanos(a_start, a_end, b_start, b_end) %}
    {#- Length of the intersection of [a_start, a_end) and [b_start, b_end), never negative. -#}
    greatest(
        cast(0 as bigint),
        least({{ a_end }}, {{ b_end }}) - greatest({{ a_start }}, {{ b_start }})
    )
{% endmacro %}
