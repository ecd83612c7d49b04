-- Totals: the sum of feature_cost_margin's cost equals the direct, shared and amortized cost
-- that went in: the capacity of every instance-hour (rule 14: the compute of the work no
-- pool claims, shared and idle), the other direct components of every priced span-day
-- that no pool claims, every shared allocation, every amortized amount; the mart's
-- `dedicated_compute_cost` is the rate-card compute of those span-days. Request counts
-- match the feature spans (as adjusted counts: each counts its sampling weight).
-- Returns a row when anything does not carry through (relative tolerance 1e-9).
with

priced as (

    select
        sum(
            case when compute_pool_id is null then cpu_cost + memory_cost + gpu_cost else 0 end
        ) as dedicated_compute_cost,
        sum(case when query_pool_id is null then db_query_cost else 0 end) as db_query_cost,
        sum(llm_cost) as llm_cost,
        sum(sampling_weight * invocation_count) as request_count
    from {{ ref('int_span_days_priced') }}

),

capacity as (

    select sum(capacity_cost) as compute_cost
    from {{ ref('int_instance_hours') }}

),

shared as (

    select sum(allocated_cost) as shared_cost
    from {{ ref('shared_cost_allocation') }}

),

pools as (

    select sum(pool_cost) as pool_cost
    from {{ ref('int_shared_resource_costs_by_day') }}

),

amortized as (

    select sum(build_amortization_cost + maintenance_cost) as amortized_cost
    from {{ ref('int_amortized_costs_by_feature_day') }}

),

total_in as (

    -- A history with no spans (or no amortization) sums to nothing: count it as 0.
    select
        coalesce(capacity.compute_cost, 0) + coalesce(priced.db_query_cost, 0)
        + coalesce(priced.llm_cost, 0) + coalesce(shared.shared_cost, 0)
        + coalesce(amortized.amortized_cost, 0) as total_cost
    from priced
    cross join capacity
    cross join shared
    cross join amortized

),

mart as (

    select
        sum(cpu_cost + memory_cost + gpu_cost) as compute_cost,
        sum(dedicated_compute_cost) as dedicated_compute_cost,
        sum(db_query_cost) as db_query_cost,
        sum(llm_cost) as llm_cost,
        sum(shared_cost) as shared_cost,
        sum(amortized_cost) as amortized_cost,
        sum(total_cost) as total_cost,
        sum(request_count) as request_count,
        count(*) as row_count
    from {{ ref('feature_cost_margin') }}

),

final as (

    select
        total_in.total_cost as total_cost_in,
        shared.shared_cost as shared_cost_in,
        pools.pool_cost as pool_cost_in,
        amortized.amortized_cost as amortized_cost_in,
        mart.total_cost as total_cost_out,
        priced.request_count as request_count_in,
        mart.request_count as request_count_out
    from priced
    cross join capacity
    cross join shared
    cross join pools
    cross join amortized
    cross join total_in
    cross join mart
    where
        {{ differs_beyond_tolerance('capacity.compute_cost', 'mart.compute_cost') }}
        or {{ differs_beyond_tolerance(
            'priced.dedicated_compute_cost', 'mart.dedicated_compute_cost'
        ) }}
        or {{ differs_beyond_tolerance('priced.db_query_cost', 'mart.db_query_cost') }}
        or {{ differs_beyond_tolerance('priced.llm_cost', 'mart.llm_cost') }}
        or {{ differs_beyond_tolerance('shared.shared_cost', 'mart.shared_cost') }}
        or {{ differs_beyond_tolerance('pools.pool_cost', 'mart.shared_cost') }}
        or {{ differs_beyond_tolerance('amortized.amortized_cost', 'mart.amortized_cost') }}
        or {{ differs_beyond_tolerance('total_in.total_cost', 'mart.total_cost') }}
        -- The mart rounds each row's adjusted count to a whole number: at most half a
        -- request per row.
        or abs(coalesce(priced.request_count, 0) - coalesce(mart.request_count, 0))
        > 0.5 * coalesce(mart.row_count, 0) + 1e-6

)

select * from final
