{% macro intervals_overlap_nanos(intervals, start_ns, end_ns) %}
    {#- How much of [start_ns, end_ns) a list of disjoint intervals (interval_list) covers, in
        nanoseconds; 0 for an empty or null list. -#}
    {{ return(adapter.dispatch('intervals_overlap_nanos', 'feature_cost')(
        intervals, start_ns, end_ns
    )) }}
{% endmacro %}

{% macro default__intervals_overlap_nanos(intervals, start_ns, end_ns) %}
    coalesce(list_sum(list_transform(
        {{ intervals }},
        lambda covered: {{ overlap_nanos('covered.start_ns', 'covered.end_ns', start_ns, end_ns) }}
    )), 0)
{% endmacro %}

{% macro bigquery__intervals_overlap_nanos(intervals, start_ns, end_ns) %}
    coalesce((
        select sum({{ overlap_nanos('covered.start_ns', 'covered.end_ns', start_ns, end_ns) }})
        from unnest({{ intervals }}) as covered
    ), 0)
{% endmacro %}
