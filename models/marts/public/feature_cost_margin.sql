-- Grain: one row per (date_day, feature_id, tenant_id), for every day, feature and tenant
-- with cost or revenue.
-- Guarantees: the public mart. Cost is carried per component: direct (rate card), shared
-- (pools split by their allocation key), amortized (build and maintenance); compute is each
-- row's share of the instance-hours it ran on, unused capacity `__idle__` (rule 14), and
-- `dedicated_compute_cost` keeps the rate-card figure beside it; `total_cost` is
-- their sum and the mart's totals equal what went in. Reserved buckets (`__unattributed__`,
-- `__flag_off__`, `__idle__`) are rows like any other. `cost_low` <= `total_cost` <=
-- `cost_high` bound the shared allocation under plausible alternative drivers. Margin follows
-- rule 8. Stored numbers keep full precision; `*_display` columns are rounded to three
-- significant figures. `is_complete_day` is false for days still in progress (rule 16).
{{ config(**bigquery_layout('date_day', ['feature_id', 'tenant_id'])) }}

with

direct_costs as (

    select * from {{ ref('int_direct_costs_by_feature_day') }}

),

shared_allocations as (

    select * from {{ ref('shared_cost_allocation') }}

),

amortized as (

    select * from {{ ref('int_amortized_costs_by_feature_day') }}

),

revenue_rows as (

    select * from {{ ref('stg_app__revenue') }}

),

taxonomy as (

    select * from {{ ref('feature_taxonomy') }}

),

span_clock as (

    -- The telemetry's own clock: the latest day any span's work reached, never past the
    -- run's UTC day (a host clock ahead by hours must not close today early).
    select max(date_day) as last_span_day
    from direct_costs
    where date_day <= cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date)

),

shared_by_feature_day as (

    select
        date_day,
        feature_id,
        tenant_id,
        {{ exact_sum("allocated_cost") }} as shared_cost,
        {{ exact_sum("allocated_cost_low") }} as shared_cost_low,
        {{ exact_sum("allocated_cost_high") }} as shared_cost_high
    from shared_allocations
    group by all

),

revenue_by_feature_day as (

    select
        date_day,
        feature_id,
        tenant_id,
        {{ exact_sum("revenue") }} as revenue
    from revenue_rows
    group by all

),

row_keys as (

    select
        date_day,
        feature_id,
        tenant_id
    from direct_costs
    union distinct
    select
        date_day,
        feature_id,
        tenant_id
    from shared_by_feature_day
    union distinct
    select
        date_day,
        feature_id,
        tenant_id
    from amortized
    union distinct
    select
        date_day,
        feature_id,
        tenant_id
    from revenue_by_feature_day

),

joined as (

    select
        row_keys.date_day,
        row_keys.feature_id,
        row_keys.tenant_id,
        {{ zero_if_absent('direct_costs', ['request_count', 'query_count']) }},
        coalesce(direct_costs.busy_ns, 0) / 1e6 as busy_ms,
        {{ zero_if_absent('direct_costs', [
            'cpu_cost', 'memory_cost', 'gpu_cost', 'dedicated_compute_cost', 'db_query_cost',
            'llm_cost', 'reconciled_compute_cost', 'unreconciled_compute_cost'
        ]) }},
        {{ zero_if_absent(
            'shared_by_feature_day', ['shared_cost', 'shared_cost_low', 'shared_cost_high']
        ) }},
        {{ zero_if_absent('amortized', ['build_amortization_cost', 'maintenance_cost']) }},
        {{ zero_if_absent('revenue_by_feature_day', ['revenue']) }}
    from row_keys
    left join direct_costs using (date_day, feature_id, tenant_id)
    left join shared_by_feature_day using (date_day, feature_id, tenant_id)
    left join amortized using (date_day, feature_id, tenant_id)
    left join revenue_by_feature_day using (date_day, feature_id, tenant_id)

),

totals as (

    select
        *,
        cpu_cost + memory_cost + gpu_cost + db_query_cost + llm_cost as direct_cost,
        build_amortization_cost + maintenance_cost as amortized_cost,
        cpu_cost + memory_cost + gpu_cost + db_query_cost + llm_cost
        + shared_cost + build_amortization_cost + maintenance_cost as total_cost,
        cpu_cost + memory_cost + gpu_cost + db_query_cost + llm_cost
        + shared_cost_low + build_amortization_cost + maintenance_cost as cost_low,
        cpu_cost + memory_cost + gpu_cost + db_query_cost + llm_cost
        + shared_cost_high + build_amortization_cost + maintenance_cost as cost_high,
        reconciled_compute_cost + db_query_cost + llm_cost
        + shared_cost + build_amortization_cost + maintenance_cost as reconciled_cost,
        -- Sums of the same floats in another order differ in the last bits: the shares
        -- are compared with a relative tolerance, so the basis does not flip on noise.
        case
            when cpu_cost + memory_cost + gpu_cost = 0 then 'no_direct_compute'
            when unreconciled_compute_cost <= 1e-9 * (cpu_cost + memory_cost + gpu_cost)
                then 'bill'
            when
                unreconciled_compute_cost
                >= (1 - 1e-9) * (cpu_cost + memory_cost + gpu_cost)
                then 'estimate'
            else 'bill_and_estimate'
        end as reconciliation_basis
    from joined

),

final as (

    select
        totals.date_day,
        cast(case
            when starts_with(totals.feature_id, '__') then totals.feature_id
            else coalesce(taxonomy.feature_group, '__unknown__')
        end as {{ dbt.type_string() }}) as feature_group,
        cast(totals.feature_id as {{ dbt.type_string() }}) as feature_id,
        cast(totals.tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(round(totals.request_count) as {{ dbt.type_bigint() }}) as request_count,
        cast(round(totals.query_count) as {{ dbt.type_bigint() }}) as query_count,
        cast(totals.busy_ms as {{ type_double() }}) as busy_ms,
        cast(totals.cpu_cost as {{ type_double() }}) as cpu_cost,
        cast(totals.memory_cost as {{ type_double() }}) as memory_cost,
        cast(totals.gpu_cost as {{ type_double() }}) as gpu_cost,
        cast(totals.dedicated_compute_cost as {{ type_double() }}) as dedicated_compute_cost,
        cast(totals.db_query_cost as {{ type_double() }}) as db_query_cost,
        cast(totals.llm_cost as {{ type_double() }}) as llm_cost,
        cast(totals.direct_cost as {{ type_double() }}) as direct_cost,
        cast(totals.shared_cost as {{ type_double() }}) as shared_cost,
        cast(totals.build_amortization_cost as {{ type_double() }}) as build_amortization_cost,
        cast(totals.maintenance_cost as {{ type_double() }}) as maintenance_cost,
        cast(totals.amortized_cost as {{ type_double() }}) as amortized_cost,
        cast(totals.total_cost as {{ type_double() }}) as total_cost,
        cast(totals.cost_low as {{ type_double() }}) as cost_low,
        cast(totals.cost_high as {{ type_double() }}) as cost_high,
        cast(totals.reconciled_cost as {{ type_double() }}) as reconciled_cost,
        cast(totals.reconciliation_basis as {{ dbt.type_string() }}) as reconciliation_basis,
        cast(totals.revenue as {{ type_double() }}) as revenue,
        cast(totals.revenue - totals.total_cost as {{ type_double() }}) as profit,
        cast(
            {{ safe_divide('totals.revenue - totals.total_cost', 'totals.total_cost') }}
            as {{ type_double() }}
        ) as margin,
        cast(
            {{ safe_divide('totals.revenue - totals.total_cost', 'totals.revenue') }}
            as {{ type_double() }}
        ) as gross_margin,
        cast(
            {{ safe_divide('totals.total_cost', 'totals.request_count') }} as {{ type_double() }}
        ) as cost_per_request,
        cast({{ round_significant('totals.total_cost') }} as {{ type_double() }})
            as total_cost_display,
        cast({{ round_significant('totals.cost_low') }} as {{ type_double() }})
            as cost_low_display,
        cast({{ round_significant('totals.cost_high') }} as {{ type_double() }})
            as cost_high_display,
        cast('{{ var("currency") }}' as {{ dbt.type_string() }}) as currency,
        coalesce(
            totals.date_day < span_clock.last_span_day
            {%- if var('day_complete_after_hours') is not none %}
            {#- Ended (midnight after it) the given hours before the run started. #}
            {%- set ended_by = run_started_at - modules.datetime.timedelta(
                hours=24 + var('day_complete_after_hours') | float
            ) %}
            or totals.date_day <= cast('{{ ended_by.strftime("%Y-%m-%d") }}' as date)
            {%- endif %},
            false
        ) as is_complete_day
    from totals
    cross join span_clock
    left join taxonomy using (feature_id)

)

select * from final
