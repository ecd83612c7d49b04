{% macro straight_line_daily_amount(amount, start_date, end_date) %}
    {#- Straight-line amortization: the share of `amount` that accrues on each day of
        [start_date, end_date) (end exclusive); null for an empty period. -#}
    {{ safe_divide(
        amount,
        date_to_day_number(end_date) ~ ' - ' ~ date_to_day_number(start_date)
    ) }}
{% endmacro %}
