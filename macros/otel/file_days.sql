{% macro file_days(spans, dated) %}
    {#- The body of a CTE: the day of each file named in the CTEs `dated` (a list of CTE
        names, each with a `filename` column), which is the start day of the earliest sound
        span (no quarantine reason) read from it. How items that have no day of their own
        (lines, spans with no start in bounds) are dated, in every audit model; a file with
        no sound span has no row. `spans`: the relation int_spans_screened. -#}
    select
        screened.filename,
        min(screened.start_day) as file_day
    from {{ spans }} as screened
    where
        screened.quarantine_reason is null
        and (
            {%- for cte in dated %}
                {{ 'or ' if not loop.first }}screened.filename in (select {{ cte }}.filename from {{ cte }})
            {%- endfor %}
        )
    group by screened.filename
{%- endmacro %}
