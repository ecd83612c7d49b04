{% test non_overlapping_periods(model, start_column, end_column, partition_by) %}
{#- Fails with each pair of rows of one partition whose periods overlap. A period runs from
    start_column (inclusive) to end_column (exclusive); an empty end is still in force. -#}
with

periods as (

    select
        {% for column in partition_by -%}
            {{ column }},
        {% endfor -%}
        {{ start_column }} as period_start,
        {{ end_column }} as period_end,
        row_number() over (
            order by {{ partition_by | join(', ') }}, {{ start_column }}, {{ end_column }}
        ) as row_id
    from {{ model }}

),

final as (

    select
        {% for column in partition_by -%}
            first_period.{{ column }},
        {% endfor -%}
        first_period.period_start as first_start,
        first_period.period_end as first_end,
        second_period.period_start as second_start,
        second_period.period_end as second_end
    from periods as first_period
    inner join periods as second_period
        on
            {% for column in partition_by -%}
                first_period.{{ column }} = second_period.{{ column }}
                and {% endfor -%}
            first_period.row_id < second_period.row_id
    where
        (second_period.period_end is null or first_period.period_start < second_period.period_end)
        and (first_period.period_end is null or second_period.period_start < first_period.period_end)

)

select * from final
{% endtest %}
