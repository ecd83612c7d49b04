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
-- `span_day_count` stays the span-days received.
-- Incremental by usage day: a run rebuilds the days int_span_days_priced rebuilt (from its
-- own latest day minus `lookback_days` and the days a span can reach, so the days the
-- pricing model rebuilt are always among them); a backfill the same days as that model.
{{ config(
    meta={'day_window_column': 'date_day', 'day_window_widen_by_span_reach': true},
    partition_by=day_partition('date_day'),
    cluster_by=bigquery_cluster_by(['feature_id', 'tenant_id'])
) }}
{%- set usage_window = usage_day_window(day_window()) %}
with

priced as (

    select * from {{ ref('int_span_days_priced') }}
    where {{ in_day_window('date_day', usage_window) }}

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
        {{ exact_sum("count_weight * invocation_count") }} as invocation_count,
        {{ exact_sum("count_weight * busy_ns") }} as busy_ns,
        {{ exact_sum("count_weight * query_count") }} as query_count,
        {{ exact_sum("count_weight * rows_scanned") }} as rows_scanned,
        {{ exact_sum("count_weight * busy_ms") }} as busy_ms,
        {{ exact_sum("count_weight * busy_ms * vcpu_cores") }} as vcpu_ms,
        {{ exact_sum("count_weight * busy_ms * memory_gb") }} as memory_gb_ms,
        {{ exact_sum("count_weight * busy_ms * gpu_count / 60000.0") }} as gpu_minutes,
        {{ exact_sum("cpu_cost") }} as cpu_cost,
        {{ exact_sum("memory_cost") }} as memory_cost,
        {{ exact_sum("gpu_cost") }} as gpu_cost,
        {{ exact_sum("db_query_cost") }} as db_query_cost,
        {{ exact_sum("llm_cost") }} as llm_cost
    from priced
    group by
        date_day,
        feature_id,
        gated_feature_id,
        tenant_id,
        feature_variant,
        service_name,
        cloud_region,
        server_address,
        compute_pool_id,
        query_pool_id

)

select * from final
