-- Two rows of one rate card, region and instance family must never be in force on the same
-- day, or a span's price would depend on row order. Returns each overlapping pair.
with

rate_cards as (

    select
        *,
        row_number() over (
            order by rate_card_id, cloud_region, instance_family, effective_from
        ) as row_id
    from {{ ref('rate_cards') }}

),

final as (

    select
        first_row.rate_card_id,
        first_row.cloud_region,
        first_row.instance_family,
        first_row.effective_from as first_from,
        first_row.effective_to as first_to,
        second_row.effective_from as second_from,
        second_row.effective_to as second_to
    from rate_cards as first_row
    inner join rate_cards as second_row
        on
            first_row.rate_card_id = second_row.rate_card_id
            and first_row.cloud_region = second_row.cloud_region
            and first_row.instance_family = second_row.instance_family
            and first_row.row_id < second_row.row_id
    where
        (second_row.effective_to is null or first_row.effective_from < second_row.effective_to)
        and (first_row.effective_to is null or second_row.effective_from < first_row.effective_to)

)

select * from final
