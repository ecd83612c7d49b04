-- Grain: one row per accepted span and UTC day its exclusive time touches (a span with no
-- time still has one row, on the day it started), priced.
-- Guarantees:
-- Rule 2 (no double counting of nested time): a parent's duration already contains its
-- children's, so a span's `busy_ns` is its own time minus the union of its same-service
-- children's time; summed over a service's spans in a trace this is the service's busy time,
-- counted once. Time that crosses midnight is split at the boundary; counts (invocations,
-- queries, tokens) go to the day the span started.
-- Rule 3 (direct cost): usage x the unit prices of the rate card in force on the usage day
-- for the feature's card, region and instance family (the most specific row wins); sizes
-- from span or resource attributes, else the service's default, else `__default__`; LLM
-- tokens x the model's price in force. Each span-day names the compute and query pools that
-- claim it (their cost is then shared, not direct).
-- Rule 12 (span links): the span-days of linked work (`link_span_id`) are split into one
-- row per share of int_span_link_shares (`share_number`), each with the share's feature
-- and tenant and its `attribution_share`; costs carry the share, and the roll-up weighs
-- counts by it, so the linked span's work is counted once in all.
-- Incremental by the day of the usage (`date_day`, see macros/incremental/day_window.sql):
-- a run rebuilds whole usage days from its window on; it reads the spans that started up to
-- `max_span_duration_hours` before (they can reach into the window) and, in a backfill, the
-- usage days its spans reach after its end. A backfill re-prices those days with the rate
-- cards as they are.
{{ config(
    meta={'day_window_column': 'date_day', 'day_window_anchor': 'start_day'},
    **bigquery_layout('date_day', ['feature_id', 'tenant_id'])
) }}
{%- set usage_window = usage_day_window(day_window()) %}
with recursive

spans as {{ not_materialized() }} (

    select * from {{ ref('int_spans_attributed') }}
    where {{ in_day_window('start_day', usage_window, span_reach_days()) }}

),

instances as (

    -- The instance of each span that names one (rule 14), read beside the trace walk rather
    -- than through it: carried through int_spans_attributed, the column cost that model
    -- its memory at 10M spans (the 4 GB build ran out).
    select
        trace_id,
        span_id,
        service_instance_id
    from {{ ref('int_spans_screened') }}
    where
        span_status = 'accepted'
        and service_instance_id is not null
        and {{ in_day_window('start_day', usage_window, span_reach_days()) }}

),

link_shares as (

    select * from {{ ref('int_span_link_shares') }}
    where {{ in_day_window('start_day', usage_window, span_reach_days()) }}

),

database_clients as (

    select
        trace_id,
        span_id,
        parent_span_id,
        service_name,
        greatest(db_query_event_count, 1) as own_query_count
    from spans
    where span_kind = 'CLIENT' and db_system is not null

),

inner_client_queries as (

    -- The queries of the database client spans directly inside each database client span of
    -- the same service (a driver's spans inside an ORM's).
    select
        trace_id,
        parent_span_id as span_id,
        service_name,
        sum(own_query_count) as query_count
    from database_clients
    where parent_span_id is not null
    group by all

),

database_client_counts as (

    -- What each database client span stands for: its own queries, or those of the client
    -- spans inside it where they are more.
    select
        database_clients.trace_id,
        database_clients.span_id,
        database_clients.parent_span_id,
        database_clients.service_name,
        database_clients.own_query_count,
        coalesce(inner_queries.query_count, 0) as inner_query_count,
        greatest(
            database_clients.own_query_count, coalesce(inner_queries.query_count, 0)
        ) as query_count
    from database_clients
    left join inner_client_queries as inner_queries
        using (trace_id, span_id, service_name)

),

database_client_queries as (

    -- The queries of the database CLIENT spans below each span, in its own service.
    select
        trace_id,
        parent_span_id as span_id,
        service_name,
        sum(query_count) as query_count
    from database_client_counts
    where parent_span_id is not null
    group by all

),

span_queries as (

    -- Rule 11 (a query counts once): a database CLIENT span is one query (or its own
    -- `db.query` events, if it carries more), less the queries of the client spans directly
    -- inside it in the same service: an ORM's span around the driver's reports the same
    -- calls, which count on the driver's spans. The `db.query` events on any other span
    -- count only beyond the queries the database client spans directly below it in the same
    -- service stand for: the middleware records the event on the span that is active when
    -- the driver's instrumentation opens the client span as its child.
    select
        spans.trace_id,
        spans.span_id,
        case
            when clients.span_id is not null
                then greatest(clients.own_query_count - clients.inner_query_count, 0)
            else greatest(spans.db_query_event_count - coalesce(below.query_count, 0), 0)
        end as query_count
    from spans
    left join database_client_queries as below using (trace_id, span_id, service_name)
    left join database_client_counts as clients using (trace_id, span_id, service_name)
    where
        spans.db_query_event_count > 0
        or (spans.span_kind = 'CLIENT' and spans.db_system is not null)

),

token_reports as (

    -- The spans that report LLM token usage.
    select
        trace_id,
        span_id,
        parent_span_id,
        coalesce(gen_ai_input_tokens, 0) as input_tokens,
        coalesce(gen_ai_output_tokens, 0) as output_tokens,
        coalesce(gen_ai_cache_read_tokens, 0) as cache_read_tokens,
        coalesce(gen_ai_cache_creation_tokens, 0) as cache_creation_tokens,
        coalesce(gen_ai_reasoning_tokens, 0) as reasoning_tokens
    from spans
    where
        gen_ai_input_tokens is not null
        or gen_ai_output_tokens is not null
        or gen_ai_cache_read_tokens is not null
        or gen_ai_cache_creation_tokens is not null
        or gen_ai_reasoning_tokens is not null

),

token_traces as (

    -- Only a trace with two or more reporting spans can report the same usage twice.
    select trace_id from token_reports
    group by trace_id
    having count(*) > 1

),

token_trace_links as (

    select
        spans.trace_id,
        spans.span_id,
        spans.parent_span_id,
        token_reports.span_id is not null as is_token_report
    from spans
    left join token_reports using (trace_id, span_id)
    where spans.trace_id in (select token_traces.trace_id from token_traces)

),

token_ancestry as (

    -- From each reporting span up its parents to the nearest reporting ancestor.
    select
        token_reports.trace_id,
        token_reports.span_id as reporter_span_id,
        token_reports.parent_span_id as ancestor_span_id,
        1 as steps
    from token_reports
    where
        token_reports.parent_span_id is not null
        and token_reports.trace_id in (select token_traces.trace_id from token_traces)

    union all

    select
        token_ancestry.trace_id,
        token_ancestry.reporter_span_id,
        ancestor.parent_span_id as ancestor_span_id,
        token_ancestry.steps + 1 as steps
    from token_ancestry
    inner join token_trace_links as ancestor
        on
            token_ancestry.trace_id = ancestor.trace_id
            and token_ancestry.ancestor_span_id = ancestor.span_id
    where
        not ancestor.is_token_report
        and ancestor.parent_span_id is not null
        and token_ancestry.steps < {{ var('max_trace_depth', 200) | int }}

),

tokens_reported_below as (

    -- What the reporting spans below each reporting span (its nearest reports) carry.
    select
        token_ancestry.trace_id,
        token_ancestry.ancestor_span_id as span_id,
        sum(below.input_tokens) as input_tokens,
        sum(below.output_tokens) as output_tokens,
        sum(below.cache_read_tokens) as cache_read_tokens,
        sum(below.cache_creation_tokens) as cache_creation_tokens,
        sum(below.reasoning_tokens) as reasoning_tokens
    from token_ancestry
    inner join token_reports as below
        on
            token_ancestry.trace_id = below.trace_id
            and token_ancestry.reporter_span_id = below.span_id
    inner join token_reports as reporter
        on
            token_ancestry.trace_id = reporter.trace_id
            and token_ancestry.ancestor_span_id = reporter.span_id
    group by token_ancestry.trace_id, token_ancestry.ancestor_span_id

),

span_tokens as (

    -- Rule 11 (usage counts once): an agent or workflow span that reports the totals of the
    -- calls below it counts only what exceeds the usage the nearest reporting spans below
    -- it report, kind by kind (none, when it only sums them).
    select
        token_reports.trace_id,
        token_reports.span_id,
        greatest(token_reports.input_tokens - coalesce(below.input_tokens, 0), 0)
            as input_tokens,
        greatest(token_reports.output_tokens - coalesce(below.output_tokens, 0), 0)
            as output_tokens,
        greatest(token_reports.cache_read_tokens - coalesce(below.cache_read_tokens, 0), 0)
            as cache_read_tokens,
        greatest(token_reports.cache_creation_tokens - coalesce(below.cache_creation_tokens, 0), 0)
            as cache_creation_tokens,
        greatest(token_reports.reasoning_tokens - coalesce(below.reasoning_tokens, 0), 0)
            as reasoning_tokens
    from token_reports
    left join tokens_reported_below as below using (trace_id, span_id)

),

children as (

    -- Same-service children, clipped to their parent's interval.
    select
        parent.trace_id,
        parent.span_id,
        greatest(child.start_ns, parent.start_ns) as start_ns,
        least(child.end_ns, parent.end_ns) as end_ns
    from spans as child
    inner join spans as parent
        on
            child.trace_id = parent.trace_id
            and child.parent_span_id = parent.span_id
            and child.service_name = parent.service_name
    where
        least(child.end_ns, parent.end_ns) > greatest(child.start_ns, parent.start_ns)

),

children_ordered as (

    select
        *,
        max(end_ns) over (
            partition by trace_id, span_id
            order by start_ns, end_ns
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end_ns
    from children

),

children_islands_numbered as (

    select
        *,
        sum(
            case
                when previous_max_end_ns is null or start_ns > previous_max_end_ns then 1 else 0
            end
        ) over (
            partition by trace_id, span_id
            order by start_ns, end_ns
            rows between unbounded preceding and current row
        ) as island_number
    from children_ordered

),

child_islands as (

    -- Overlapping children merged, so parallel calls are not subtracted twice.
    select
        trace_id,
        span_id,
        min(start_ns) as start_ns,
        max(end_ns) as end_ns
    from children_islands_numbered
    group by trace_id, span_id, island_number

),

span_days as (

    select
        spans.trace_id,
        spans.span_id,
        spans.start_ns,
        spans.end_ns,
        day_number,
        day_number * 86400000000000 as day_start_ns,
        (day_number + 1) * 86400000000000 as day_end_ns,
        day_number = {{ nanos_to_day_number('spans.start_ns') }} as is_start_day
    from spans
    cross join {{ integers_between(
        nanos_to_day_number('spans.start_ns'),
        nanos_to_day_number('greatest(spans.start_ns, spans.end_ns - 1)'),
        'day_number'
    ) }}

),

children_per_day as (

    select
        span_days.trace_id,
        span_days.span_id,
        span_days.day_number,
        sum({{ overlap_nanos(
            'child_islands.start_ns', 'child_islands.end_ns',
            'span_days.day_start_ns', 'span_days.day_end_ns'
        ) }}) as children_ns
    from span_days
    inner join child_islands using (trace_id, span_id)
    group by all

),

child_intervals as (

    -- The merged children of each span-day that runs in more than one UTC hour: rule 14
    -- spreads the span's own busy time over the hours by when no child ran (within one
    -- hour there is nothing to spread, so the other span-days carry none).
    select
        span_days.trace_id,
        span_days.span_id,
        span_days.day_number,
        {{ interval_list('child_islands.start_ns', 'child_islands.end_ns') }}
            as child_intervals
    from span_days
    inner join child_islands using (trace_id, span_id)
    where
        {{ nanos_to_hour_number('greatest(span_days.start_ns, span_days.day_start_ns)') }}
        < {{ nanos_to_hour_number('least(span_days.end_ns, span_days.day_end_ns) - 1') }}
        and child_islands.start_ns < span_days.day_end_ns
        and child_islands.end_ns > span_days.day_start_ns
    group by span_days.trace_id, span_days.span_id, span_days.day_number

),

usage_all_days as (

    select
        span_days.trace_id,
        span_days.span_id,
        -- Whose work it is: the span's attribution, or one share of its linked work.
        coalesce(link_shares.share_number, 1) as share_number,
        {{ day_number_to_date('span_days.day_number') }} as date_day,
        spans.start_day,
        spans.span_name,
        spans.service_name,
        spans.cloud_region,
        spans.host_type,
        instances.service_instance_id,
        -- The span's elapsed interval within the day (rule 14 spreads it over hours).
        greatest(span_days.start_ns, span_days.day_start_ns) as active_start_ns,
        greatest(
            least(span_days.end_ns, span_days.day_end_ns),
            greatest(span_days.start_ns, span_days.day_start_ns)
        ) as active_end_ns,
        coalesce(link_shares.feature_id, spans.feature_id) as feature_id,
        coalesce(link_shares.gated_feature_id, spans.gated_feature_id) as gated_feature_id,
        coalesce(link_shares.tenant_id, spans.tenant_id) as tenant_id,
        case
            when link_shares.span_id is not null then link_shares.feature_variant
            else spans.feature_variant
        end as feature_variant,
        coalesce(link_shares.attribution_share, 1) as attribution_share,
        {{ overlap_nanos(
            'span_days.start_ns', 'span_days.end_ns',
            'span_days.day_start_ns', 'span_days.day_end_ns'
        ) }} - coalesce(children_per_day.children_ns, 0) as busy_ns,
        child_intervals.child_intervals,
        case
            when not span_days.is_start_day then 0
            when spans.is_feature_span then 1
            else 0
        end as invocation_count,
        -- A span's counts belong to its start day: a span crossing midnight counts once.
        {%- for count_column, counted in [
            ('query_count', 'span_queries.query_count'),
            ('input_tokens', 'span_tokens.input_tokens'),
            ('output_tokens', 'span_tokens.output_tokens'),
            ('cache_read_tokens', 'span_tokens.cache_read_tokens'),
            ('cache_creation_tokens', 'span_tokens.cache_creation_tokens'),
            ('reasoning_tokens', 'span_tokens.reasoning_tokens'),
            ('rows_scanned', 'spans.db_rows_returned'),
        ] %}
            case when span_days.is_start_day then coalesce({{ counted }}, 0) else 0 end
                as {{ count_column }},
        {%- endfor %}
        spans.server_address,
        coalesce(spans.sampling_weight, 1) as sampling_weight,
        coalesce(spans.sampling_weight, 1) * coalesce(link_shares.attribution_share, 1)
            as count_weight,
        spans.gen_ai_request_model,
        spans.cpu_cores_attribute,
        spans.memory_gb_attribute,
        spans.gpu_count_attribute
    from span_days
    inner join spans using (trace_id, span_id)
    left join instances using (trace_id, span_id)
    left join children_per_day using (trace_id, span_id, day_number)
    left join child_intervals using (trace_id, span_id, day_number)
    left join span_queries using (trace_id, span_id)
    left join span_tokens using (trace_id, span_id)
    left join link_shares
        on
            spans.trace_id = link_shares.trace_id
            and spans.link_span_id = link_shares.span_id

),

usage as (

    -- The usage days this run rebuilds.
    select * from usage_all_days
    where {{ in_day_window('date_day', usage_window) }}

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

    -- Kept as one copy (read twice): run on each read, its joins ran out of memory on a day
    -- of 3.3M spans (see the not_materialized macro).
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
            and {{ in_period(
                'price_keys.date_day', 'rate_cards.effective_from', 'rate_cards.effective_to'
            ) }}

),

rates as (

    select * from candidate_rates
    where specificity_rank = 1

),

fallback_defaults as (

    select * from service_defaults
    where service_name = '__default__'

),

sized as {{ not_materialized() }} (

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
    left join service_defaults using (service_name)
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
    group by all

),

final as (

    select
        sized.trace_id,
        sized.span_id,
        sized.share_number,
        sized.date_day,
        sized.start_day,
        sized.span_name,
        sized.service_name,
        sized.cloud_region,
        sized.instance_family,
        -- One instance per service and region where the resource names none.
        coalesce(sized.service_instance_id, '__service__') as instance_id,
        sized.active_start_ns,
        sized.active_end_ns,
        sized.child_intervals,
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
        sized.cache_read_tokens,
        sized.cache_creation_tokens,
        sized.reasoning_tokens,
        sized.gen_ai_request_model,
        sized.vcpu_cores,
        sized.memory_gb,
        sized.gpu_count,
        sized.sampling_weight,
        sized.attribution_share,
        sized.count_weight,
        sized.count_weight * sized.busy_ns / 1e6 * sized.vcpu_cores * rates.cpu_per_ms
            as cpu_cost,
        sized.count_weight * sized.busy_ns / 1e6 * sized.memory_gb * rates.memory_per_ms
            as memory_cost,
        sized.count_weight * sized.busy_ns / 1e6 * sized.gpu_count * rates.gpu_per_ms
            as gpu_cost,
        sized.count_weight * sized.query_count * rates.db_query_base as db_query_cost,
        -- Cached, cache-write and reasoning tokens are parts of the input and output tokens
        -- (as the conventions define them), priced at their own rate where the seed has one.
        -- No price for the model that day: 0 here, and assert_llm_prices_cover_usage fails.
        coalesce(sized.count_weight * (
            greatest(
                sized.input_tokens - sized.cache_read_tokens - sized.cache_creation_tokens, 0
            ) * llm_prices.input_per_1k_tokens
            + sized.cache_read_tokens
            * coalesce(llm_prices.cached_input_per_1k_tokens, llm_prices.input_per_1k_tokens)
            + sized.cache_creation_tokens
            * coalesce(llm_prices.cache_write_per_1k_tokens, llm_prices.input_per_1k_tokens)
            + greatest(sized.output_tokens - sized.reasoning_tokens, 0)
            * llm_prices.output_per_1k_tokens
            + sized.reasoning_tokens
            * coalesce(llm_prices.reasoning_per_1k_tokens, llm_prices.output_per_1k_tokens)
        ) / 1000.0, 0) as llm_cost,
        sized.input_tokens + sized.output_tokens + sized.cache_read_tokens
        + sized.cache_creation_tokens + sized.reasoning_tokens = 0
        or llm_prices.model is not null as llm_price_found,
        claims.compute_pool_id,
        claims.query_pool_id,
        {{ zero_if_absent('claims', ['compute_pool_count', 'query_pool_count']) }},
        coalesce(rates.currency, '{{ var("currency") }}') as currency
    from sized
    left join rates using (rate_card_id, rate_region, instance_family, date_day)
    left join llm_prices
        on
            sized.gen_ai_request_model = llm_prices.model
            and {{ in_period(
                'sized.date_day', 'llm_prices.effective_from', 'llm_prices.effective_to'
            ) }}
    left join claims using (trace_id, span_id, date_day)

)

select * from final
