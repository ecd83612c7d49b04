-- Grain: one row per (date_day, target_type, target_id, cloud_region) the bill charges,
-- including target_type `__unmapped__` for charges no billing mapping claims.
-- Guarantees (rule 10): every charge of the FOCUS export is spread over the UTC days of its
-- charge period (in proportion to the overlap) and mapped to at most one target: a shared
-- resource or a service's compute, by resource id or by tag (a resource id mapping wins,
-- then the first tag key alphabetically); the total of `billed_cost`
-- here equals the export's total of `truth_cost`, the cost the var `billing_cost_column` names
-- (a charge without it is left out: a warning lists it).
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
        {{ timestamp_to_nanos('charge_period_start') }} as start_ns,
        greatest(
            {{ timestamp_to_nanos('charge_period_end') }},
            {{ timestamp_to_nanos('charge_period_start') }} + 1
        ) as end_ns
    from charges
    where truth_cost is not null

),

tag_keys as (

    select distinct tag_key
    from mappings
    where match_on = 'tag'

),

charge_tags as (

    select
        charges_with_cost.filename,
        charges_with_cost.charge_number,
        tag_keys.tag_key,
        {{ json_string_value('charges_with_cost.tags', 'tag_keys.tag_key') }} as tag_value
    from charges_with_cost
    cross join tag_keys

),

-- Every mapping a charge matches; equality joins only, so BigQuery accepts the left joins.
candidate_matches as (

    select
        charges_with_cost.filename,
        charges_with_cost.charge_number,
        mappings.target_type,
        mappings.target_id,
        0 as match_priority,
        '' as tag_key
    from charges_with_cost
    inner join mappings
        on
            mappings.match_on = 'resource_id'
            and charges_with_cost.resource_id = mappings.match_value

    union all

    select
        charge_tags.filename,
        charge_tags.charge_number,
        mappings.target_type,
        mappings.target_id,
        1 as match_priority,
        charge_tags.tag_key
    from charge_tags
    inner join mappings
        on
            mappings.match_on = 'tag'
            and charge_tags.tag_key = mappings.tag_key
            and charge_tags.tag_value = mappings.match_value

),

-- One target per charge: a ResourceId mapping wins over tags; among tags, the first
-- tag key in alphabetical order wins. The bill is never counted twice.
chosen_matches as (

    select
        filename,
        charge_number,
        target_type,
        target_id,
        row_number() over (
            partition by filename, charge_number
            order by match_priority, tag_key, target_type, target_id
        ) as match_rank
    from candidate_matches

),

mapped as (

    select
        charges_with_cost.filename,
        charges_with_cost.charge_number,
        coalesce(chosen_matches.target_type, '__unmapped__') as target_type,
        coalesce(
            chosen_matches.target_id, coalesce(charges_with_cost.service_name, '__unknown__')
        ) as target_id,
        coalesce(charges_with_cost.region_id, '*') as cloud_region,
        charges_with_cost.truth_cost,
        charges_with_cost.start_ns,
        charges_with_cost.end_ns
    from charges_with_cost
    left join chosen_matches
        on
            charges_with_cost.filename = chosen_matches.filename
            and charges_with_cost.charge_number = chosen_matches.charge_number
            and chosen_matches.match_rank = 1

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
        {{ exact_sum("truth_cost * day_fraction") }} as billed_cost
    from charge_days
    group by all

)

select * from final
