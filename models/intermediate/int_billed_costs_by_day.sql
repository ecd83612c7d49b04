-- Grain: one row per (date_day, target_type, target_id, cloud_region) the bill charges,
-- including target_type `__unmapped__` for charges no billing mapping claims.
-- Guarantees (rule 10): every charge of the FOCUS export is spread over the UTC days of its
-- charge period (in proportion to the overlap) and mapped to at most one target: a shared
-- resource or a service's compute, by resource id or by tag; the total of `billed_cost`
-- here equals the export's total of the var `billing_cost_column`.
with

charges as (

    select * from {{ ref('stg_billing__focus_charges') }}

),

mappings as (

    select * from {{ ref('billing_mappings') }}

),

charges_with_cost as (

    select
        *,
        {{ billing_truth_cost() }} as truth_cost,
        {{ timestamp_to_nanos('charge_period_start') }} as start_ns,
        greatest(
            {{ timestamp_to_nanos('charge_period_end') }},
            {{ timestamp_to_nanos('charge_period_start') }} + 1
        ) as end_ns
    from charges

),

mapped as (

    select
        charges_with_cost.filename,
        charges_with_cost.charge_number,
        coalesce(mappings.target_type, '__unmapped__') as target_type,
        coalesce(mappings.target_id, coalesce(charges_with_cost.service_name, '__unknown__'))
            as target_id,
        coalesce(charges_with_cost.region_id, '*') as cloud_region,
        charges_with_cost.truth_cost,
        charges_with_cost.start_ns,
        charges_with_cost.end_ns
    from charges_with_cost
    left join mappings
        on
            (
                mappings.match_on = 'resource_id'
                and charges_with_cost.resource_id = mappings.match_value
            )
            or (
                mappings.match_on = 'tag'
                and {{ json_string_value('charges_with_cost.tags', 'mappings.tag_key') }}
                = mappings.match_value
            )

),

charge_days as (

    select
        mapped.*,
        day_number,
        {{ overlap_nanos(
            'mapped.start_ns', 'mapped.end_ns',
            'day_number * 86400000000000', '(day_number + 1) * 86400000000000'
        ) }} * 1.0 / (mapped.end_ns - mapped.start_ns) as day_fraction
    from mapped
    cross join {{ integers_between(
        nanos_to_day_number('mapped.start_ns'), nanos_to_day_number('mapped.end_ns - 1'),
        'day_number'
    ) }}

),

final as (

    select
        {{ day_number_to_date('day_number') }} as date_day,
        target_type,
        target_id,
        cloud_region,
        count(distinct filename || '#' || cast(charge_number as {{ dbt.type_string() }}))
            as charge_count,
        sum(truth_cost * day_fraction) as billed_cost
    from charge_days
    group by day_number, target_type, target_id, cloud_region

)

select * from final
