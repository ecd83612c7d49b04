{% macro future_span_cutoff_nanos() %}
    {#- Spans starting after this instant (the run's start plus the var
        `future_span_tolerance_hours`) come from a broken clock: they are quarantined. -#}
    {%- set tolerance_hours = var('future_span_tolerance_hours', 24) | int -%}
    {%- set cutoff_seconds = run_started_at.timestamp() + tolerance_hours * 3600 -%}
    cast({{ (cutoff_seconds | int) * 1000000000 }} as bigint)
{% endmacro %}
