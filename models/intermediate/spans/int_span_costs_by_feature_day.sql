-- Grain: one row per (date_day, feature_id, gated_feature_id, tenant_id, feature_variant,
-- service_name, cloud_region, server_address, compute_pool_id, query_pool_id) with priced
-- work: the span-days of int_span_days_priced summed to what the allocation, the bill
-- and the marts group and match by.
-- Guarantees: every quantity and cost of the span-days carried through (exact sums), so
-- the models after it read days x features x tenants x services instead of every span-day
-- of the history; nothing is added or dropped. Quantities are adjusted counts (rule 11):
-- each span-day's invocations, queries, rows, busy time and resource-time count its
-- `count_weight` (its sampling weight, times its share of linked work under rule 12), as
-- its costs already do, so counts, drivers and costs agree under sampling and links;
-- `span_day_count` stays the span-days received. Rule 14: `capacity_*_cost` is the
-- rate-card cost x the capacity share factor of the instance-hours the span-day ran in
-- (int_instance_hours; 1 unless concurrent work filled the hour); the rate-card figure
-- stays in `cpu_cost`, `memory_cost` and `gpu_cost` (what the work would cost on
-- capacity of its own).
-- Incremental by usage day: a run rebuilds the days int_span_days_priced rebuilt (from its
-- own latest day minus `lookback_days` and the days a span can reach, so the days the
-- pricing model rebuilt are always among them); a backfill the same days as that model.
{{ config(
    meta={'day_window_column': 'date_day', 'day_window_widen_by_span_reach': true},
    **bigquery_layout('date_day', ['feature_id', 'tenant_id'])
) }}
{%- set usage_window = usage_day_window(day_window()) %}
with

priced as (

    select * from {{ ref('int_span_days_priced') }}
    where {{ in_day_window('date_day', usage_window) }}

),

oversubscribed_hours as (

    select * from {{ ref('int_instance_hours') }}
    where {{ in_day_window('date_day', usage_window) }} and capacity_share_factor < 1

),

oversubscribed_work as (

    -- Only the span-days on an instance-day with an hour whose work exceeded its capacity.
    select
        priced.trace_id,
        priced.span_id,
        priced.share_number,
        priced.date_day,
        priced.service_name,
        priced.cloud_region,
        priced.instance_id,
        priced.active_start_ns,
        priced.active_end_ns,
        priced.busy_ns,
        priced.child_intervals
    from priced
    where
        priced.compute_pool_id is null
        and exists (
            select 1 from oversubscribed_hours
            where {{ same_instance_day('oversubscribed_hours', 'priced') }}
        )

),

oversubscribed_work_hours as (

    select
        pending.trace_id,
        pending.span_id,
        pending.share_number,
        pending.date_day,
        pending.service_name,
        pending.cloud_region,
        pending.instance_id,
        hour_number,
        {{ hour_share(
            'pending.active_start_ns', 'pending.active_end_ns', 'pending.busy_ns',
            'pending.child_intervals'
        ) }} as hour_share
    from oversubscribed_work as pending
    cross join {{ hours_touched('pending.active_start_ns', 'pending.active_end_ns') }}

),

capacity_factors as (

    -- Each such span-day's hours, weighted by its busy time in each, x their factor.
    select
        pending.trace_id,
        pending.span_id,
        pending.share_number,
        pending.date_day,
        {{ exact_sum(
            'pending.hour_share * coalesce(oversubscribed_hours.capacity_share_factor, 1)'
        ) }} as capacity_share_factor
    from oversubscribed_work_hours as pending
    left join oversubscribed_hours
        on
            {{ same_instance_day('pending', 'oversubscribed_hours') }}
            and pending.hour_number = oversubscribed_hours.hour_number
    group by all

),

priced_with_factor as (

    select
        priced.*,
        coalesce(capacity_factors.capacity_share_factor, 1) as capacity_share_factor
    from priced
    left join capacity_factors using (trace_id, span_id, share_number, date_day)

),

final as (

    select
        date_day,
        feature_id,
        gated_feature_id,
        tenant_id,
        feature_variant,
        service_name,
        cloud_region,
        server_address,
        compute_pool_id,
        query_pool_id,
        -- A span-day split over linked shares (rule 12) is one span-day, counted on its first.
        sum(case when share_number = 1 then 1 else 0 end) as span_day_count,
        {{ exact_sums(
            ['invocation_count', 'busy_ns', 'query_count', 'rows_scanned', 'busy_ms'],
            weight='count_weight'
        ) }},
        {{ exact_sum("count_weight * busy_ms * vcpu_cores") }} as vcpu_ms,
        {{ exact_sum("count_weight * busy_ms * memory_gb") }} as memory_gb_ms,
        {{ exact_sum("count_weight * busy_ms * gpu_count / 60000.0") }} as gpu_minutes,
        {{ exact_sums(['cpu_cost', 'memory_cost', 'gpu_cost']) }},
        {{ exact_sum("cpu_cost * capacity_share_factor") }} as capacity_cpu_cost,
        {{ exact_sum("memory_cost * capacity_share_factor") }} as capacity_memory_cost,
        {{ exact_sum("gpu_cost * capacity_share_factor") }} as capacity_gpu_cost,
        {{ exact_sums(['db_query_cost', 'llm_cost']) }}
    from priced_with_factor
    group by all

)

select * from final
