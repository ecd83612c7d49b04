-- Grain: one row per UTC day from 2020-01-01 to 2035-12-31.
-- Guarantees: the day spine the semantic layer (MetricFlow) joins metrics to; no gaps.
with

days as (

    select {{ day_number_to_date('day_number') }} as date_day
    from (select 1 as one) as anchor
    cross join {{ integers_between(
        date_to_day_number("date '2020-01-01'"), date_to_day_number("date '2035-12-31'"),
        'day_number'
    ) }}

),

final as (

    select date_day from days

)

select * from final
