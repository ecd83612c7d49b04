{% macro in_day_window(day_expr, window, lookbehind_days=0) %}
    {#- SQL predicate: `day_expr` (a DATE) lies in `window` (see day_window), its start moved
        `lookbehind_days` earlier; `true` when the window is unbounded. -#}
    {%- set clauses = [] -%}
    {%- if window.start -%}
        {%- set start_day = modules.datetime.date.fromisoformat(window.start)
            - modules.datetime.timedelta(days=lookbehind_days | int) -%}
        {%- do clauses.append(day_expr ~ " >= cast('" ~ start_day.isoformat() ~ "' as date)") -%}
    {%- endif -%}
    {%- if window.end -%}
        {%- do clauses.append(day_expr ~ " < cast('" ~ window.end ~ "' as date)") -%}
    {%- endif -%}
    {{- clauses | join(' and ') if clauses else 'true' -}}
{% endmacro %}
