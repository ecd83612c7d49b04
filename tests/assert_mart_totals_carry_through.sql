-- Totals: each cost component summed over feature_cost_margin equals the same component
-- summed over every priced span-day that went in, total_cost is their sum, and request
-- counts match the feature spans. Returns a row when anything does not carry through.
with

priced as (

    select
        sum(cpu_cost) as cpu_cost,
        sum(memory_cost) as memory_cost,
        sum(gpu_cost) as gpu_cost,
        sum(db_query_cost) as db_query_cost,
        sum(cpu_cost + memory_cost + gpu_cost + db_query_cost) as total_cost,
        sum(invocation_count) as request_count
    from {{ ref('int_span_costs_priced') }}

),

mart as (

    select
        sum(cpu_cost) as cpu_cost,
        sum(memory_cost) as memory_cost,
        sum(gpu_cost) as gpu_cost,
        sum(db_query_cost) as db_query_cost,
        sum(total_cost) as total_cost,
        sum(request_count) as request_count
    from {{ ref('feature_cost_margin') }}

),

final as (

    select
        priced.cpu_cost as priced_cpu_cost,
        mart.cpu_cost as mart_cpu_cost,
        priced.memory_cost as priced_memory_cost,
        mart.memory_cost as mart_memory_cost,
        priced.gpu_cost as priced_gpu_cost,
        mart.gpu_cost as mart_gpu_cost,
        priced.db_query_cost as priced_db_query_cost,
        mart.db_query_cost as mart_db_query_cost,
        priced.total_cost as priced_total_cost,
        mart.total_cost as mart_total_cost,
        priced.request_count as priced_request_count,
        mart.request_count as mart_request_count
    from priced
    cross join mart
    where
        {{ differs_beyond_tolerance('priced.cpu_cost', 'mart.cpu_cost') }}
        or {{ differs_beyond_tolerance('priced.memory_cost', 'mart.memory_cost') }}
        or {{ differs_beyond_tolerance('priced.gpu_cost', 'mart.gpu_cost') }}
        or {{ differs_beyond_tolerance('priced.db_query_cost', 'mart.db_query_cost') }}
        or {{ differs_beyond_tolerance('priced.total_cost', 'mart.total_cost') }}
        or priced.request_count != mart.request_count

)

select * from final
