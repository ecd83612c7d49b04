{% macro interval_list(start_ns, end_ns) %}
    {#- An aggregate: the group's intervals [start_ns, end_ns) as a list of
        {start_ns, end_ns} structs, in order of start (read with intervals_overlap_nanos). -#}
    {{ return(adapter.dispatch('interval_list', 'feature_cost')(start_ns, end_ns)) }}
{% endmacro %}

{% macro default__interval_list(start_ns, end_ns) %}
    list({'start_ns': {{ start_ns }}, 'end_ns': {{ end_ns }}} order by {{ start_ns }})
{% endmacro %}

{% macro bigquery__interval_list(start_ns, end_ns) %}
    array_agg(struct({{ start_ns }} as start_ns, {{ end_ns }} as end_ns) order by {{ start_ns }})
{% endmacro %}
