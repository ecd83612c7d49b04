{% macro count_events_named(events, event_name) %}
    {#- How many events in a span's event list carry this name. -#}
    {{ return(adapter.dispatch('count_events_named', 'feature_cost')(events, event_name)) }}
{% endmacro %}

{% macro default__count_events_named(events, event_name) %}
    len(list_filter({{ events }}, lambda event: event.name = '{{ event_name }}'))
{% endmacro %}

{% macro bigquery__count_events_named(events, event_name) %}
    (select count(*) from unnest({{ events }}) as event where event.name = '{{ event_name }}')
{% endmacro %}
