{% macro in_period(day, period_start, period_end) %}
    {#- SQL predicate: `day` lies in the half-open period [period_start, period_end), the way
        every dated seed reads its periods (the end is the first day after); a null
        period_end leaves the period open. -#}
    ({{ day }} >= {{ period_start }} and ({{ period_end }} is null or {{ day }} < {{ period_end }}))
{% endmacro %}
