-- Grain: one row per accepted span and UTC day (as int_span_usage_split_by_day).
-- Guarantees (rule 3): usage x unit price of the rate card in force that day for the span's
-- region and instance family; the card is the feature's (taxonomy), else the var
-- `default_rate_card` for unattributed work and features the taxonomy does not know. Sizes
-- come from the span's or resource's `cost.*` attributes, else the service's defaults, else
-- the `__default__` row. Where no rate-card row is in force the costs are null and
-- `rate_card_row_found` is false; the test on that column names the gap and fails the build.
-- Costs of sampled spans are weighted by their sampling weight (adjusted count).
-- LLM tokens (`gen_ai.usage.*_tokens`) are priced per `gen_ai.request.model` from
-- llm_model_prices on the day the call started (`llm_price_found` false where no price is).
-- Where a shared resource is paid as one pool on that day, it claims the components it
-- covers (service compute and GPU pools: cpu, memory and gpu; databases and caches: queries):
-- those estimates then serve only as allocation weights and the pool's cost replaces them.
-- Incremental by the day of the usage (`date_day`, see macros/incremental/day_window.sql):
-- a run rebuilds whole usage days, those of its window and those the spans that started in
-- it run into; a backfill of a day range re-prices the usage on those days with the rate
-- cards as they are.
{{ config(
    meta={'day_window_column': 'date_day', 'day_window_anchor': 'start_day'},
    partition_by=day_partition('date_day'),
    cluster_by=bigquery_cluster_by(['feature_id', 'tenant_id'])
) }}
{%- set window = day_window() %}
{%- if window.end and execute and var('day_window_override', none) is not mapping %}
    {#- A backfill: spans that started in it and ran past its end were rebuilt upstream, so
        the usage days they reach are re-priced whole as well. -#}
    {%- set reached = run_query(
        'select max(date_day) from ' ~ ref('int_span_usage_split_by_day')
        ~ ' where ' ~ in_day_window('start_day', window)
    ).columns[0].values()[0] -%}
    {%- if reached is not none -%}
        {%- set reached_end = (
            modules.datetime.date.fromisoformat((reached | string)[:10])
            + modules.datetime.timedelta(days=1)
        ).isoformat() -%}
        {%- if reached_end > window.end -%}
            {%- set window = {'start': window.start, 'end': reached_end} -%}
        {%- endif -%}
    {%- endif -%}
{%- endif %}
with

usage as (

    select * from {{ ref('int_span_usage_split_by_day') }}
    where {{ in_day_window('date_day', window) }}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

),

rate_cards as (

    select * from {{ ref('rate_cards') }}

),

service_defaults as (

    select * from {{ ref('service_resource_defaults') }}

),

llm_prices as (

    select * from {{ ref('llm_model_prices') }}

),

pools as (

    select
        shared_resources.resource_id,
        shared_resources.resource_type,
        shared_resources.cloud_region,
        shared_resources.match_service_name,
        shared_resources.match_server_address,
        pool_days.date_day
    from {{ ref('shared_resources') }} as shared_resources
    inner join {{ ref('int_shared_resource_costs_by_day') }} as pool_days
        on shared_resources.resource_id = pool_days.resource_id

),

usage_with_card as (

    select
        usage.*,
        coalesce(taxonomy.rate_card_id, '{{ var("default_rate_card") }}') as rate_card_id,
        coalesce(usage.cloud_region, '__unknown__') as rate_region,
        coalesce(
            nullif({{ dbt.split_part('usage.host_type', "'.'", 1) }}, ''), '__unknown__'
        ) as instance_family
    from usage
    left join taxonomy
        on usage.gated_feature_id = taxonomy.feature_id

),

price_keys as (

    select distinct
        rate_card_id,
        rate_region,
        instance_family,
        date_day
    from usage_with_card

),

candidate_rates as (

    -- Every rate-card row that could price a key; the most specific one wins.
    select
        price_keys.*,
        rate_cards.cpu_per_ms,
        rate_cards.memory_per_ms,
        rate_cards.gpu_per_ms,
        rate_cards.db_query_base,
        rate_cards.currency,
        row_number() over (
            partition by
                price_keys.rate_card_id,
                price_keys.rate_region,
                price_keys.instance_family,
                price_keys.date_day
            order by
                case when rate_cards.cloud_region = '*' then 1 else 0 end,
                case when rate_cards.instance_family = '*' then 1 else 0 end
        ) as specificity_rank
    from price_keys
    inner join rate_cards
        on
            price_keys.rate_card_id = rate_cards.rate_card_id
            and rate_cards.cloud_region in (price_keys.rate_region, '*')
            and rate_cards.instance_family in (price_keys.instance_family, '*')
            and price_keys.date_day >= rate_cards.effective_from
            and (rate_cards.effective_to is null or price_keys.date_day < rate_cards.effective_to)

),

rates as (

    select * from candidate_rates
    where specificity_rank = 1

),

fallback_defaults as (

    select * from service_defaults
    where service_name = '__default__'

),

sized as (

    select
        usage_with_card.*,
        coalesce(
            usage_with_card.cpu_cores_attribute, service_defaults.vcpu_cores, fallback.vcpu_cores
        ) as vcpu_cores,
        coalesce(
            usage_with_card.memory_gb_attribute, service_defaults.memory_gb, fallback.memory_gb
        ) as memory_gb,
        coalesce(
            usage_with_card.gpu_count_attribute, service_defaults.gpu_count, fallback.gpu_count
        ) as gpu_count,
        case
            when usage_with_card.cpu_cores_attribute is not null then 'attribute'
            when service_defaults.service_name is not null then 'service_default'
            else 'fallback_default'
        end as size_basis
    from usage_with_card
    left join service_defaults
        on usage_with_card.service_name = service_defaults.service_name
    cross join fallback_defaults as fallback

),

claims as (

    select
        sized.trace_id,
        sized.span_id,
        sized.date_day,
        min(case
            when pools.resource_type in ('service_compute', 'gpu_pool') then pools.resource_id
        end) as compute_pool_id,
        min(case
            when pools.resource_type in ('database', 'cache') then pools.resource_id
        end) as query_pool_id,
        count(distinct case
            when pools.resource_type in ('service_compute', 'gpu_pool') then pools.resource_id
        end) as compute_pool_count,
        count(distinct case
            when pools.resource_type in ('database', 'cache') then pools.resource_id
        end) as query_pool_count
    from sized
    inner join pools
        on
            sized.date_day = pools.date_day
            and {{ span_in_pool_scope('sized', 'pools') }}
    where pools.resource_type in ('service_compute', 'gpu_pool', 'database', 'cache')
    group by sized.trace_id, sized.span_id, sized.date_day

),

final as (

    select
        sized.trace_id,
        sized.span_id,
        sized.date_day,
        sized.start_day,
        sized.service_name,
        sized.cloud_region,
        sized.instance_family,
        sized.server_address,
        sized.feature_id,
        sized.gated_feature_id,
        sized.tenant_id,
        sized.feature_variant,
        sized.rate_card_id,
        rates.rate_card_id is not null as rate_card_row_found,
        sized.size_basis,
        sized.busy_ns,
        sized.busy_ns / 1e6 as busy_ms,
        sized.invocation_count,
        sized.query_count,
        sized.rows_scanned,
        sized.input_tokens,
        sized.output_tokens,
        sized.gen_ai_request_model,
        sized.vcpu_cores,
        sized.memory_gb,
        sized.gpu_count,
        sized.sampling_weight,
        sized.sampling_weight * sized.busy_ns / 1e6 * sized.vcpu_cores * rates.cpu_per_ms
            as cpu_cost,
        sized.sampling_weight * sized.busy_ns / 1e6 * sized.memory_gb * rates.memory_per_ms
            as memory_cost,
        sized.sampling_weight * sized.busy_ns / 1e6 * sized.gpu_count * rates.gpu_per_ms
            as gpu_cost,
        sized.sampling_weight * sized.query_count * rates.db_query_base as db_query_cost,
        sized.sampling_weight * (
            coalesce(sized.input_tokens, 0) * coalesce(llm_prices.input_per_1k_tokens, 0)
            + coalesce(sized.output_tokens, 0) * coalesce(llm_prices.output_per_1k_tokens, 0)
        ) / 1000.0 as llm_cost,
        coalesce(sized.input_tokens, 0) + coalesce(sized.output_tokens, 0) = 0
        or llm_prices.model is not null as llm_price_found,
        claims.compute_pool_id,
        claims.query_pool_id,
        coalesce(claims.compute_pool_count, 0) as compute_pool_count,
        coalesce(claims.query_pool_count, 0) as query_pool_count,
        coalesce(rates.currency, '{{ var("currency") }}') as currency
    from sized
    left join rates
        on
            sized.rate_card_id = rates.rate_card_id
            and sized.rate_region = rates.rate_region
            and sized.instance_family = rates.instance_family
            and sized.date_day = rates.date_day
    left join llm_prices
        on
            sized.gen_ai_request_model = llm_prices.model
            and sized.date_day >= llm_prices.effective_from
            and (llm_prices.effective_to is null or sized.date_day < llm_prices.effective_to)
    left join claims
        on
            sized.trace_id = claims.trace_id
            and sized.span_id = claims.span_id
            and sized.date_day = claims.date_day

)

select * from final
