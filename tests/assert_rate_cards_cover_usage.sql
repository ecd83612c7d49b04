-- Every rate card a feature uses must have a row in force for every region, instance family
-- and day the feature ran there. Returns each gap: add a rate-card row that covers it (or a
-- `*` row for the region or family).
with

priced as (

    select * from {{ ref('int_span_days_priced') }}

),

final as (

    select
        rate_card_id,
        coalesce(cloud_region, '__unknown__') as cloud_region,
        instance_family,
        date_day,
        count(*) as unpriced_span_days
    from priced
    where not rate_card_row_found
    group by all

)

select * from final
