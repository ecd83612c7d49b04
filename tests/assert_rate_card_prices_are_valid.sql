-- Every price is non-negative and every period ends after it starts. Returns each bad row
-- with what is wrong with it.
with

rate_cards as (

    select * from {{ ref('rate_cards') }}

),

final as (

    select
        *,
        case
            when cpu_per_ms < 0 then 'negative cpu_per_ms'
            when memory_per_ms < 0 then 'negative memory_per_ms'
            when gpu_per_ms < 0 then 'negative gpu_per_ms'
            when db_query_base < 0 then 'negative db_query_base'
            when effective_to <= effective_from then 'effective_to is not after effective_from'
        end as problem
    from rate_cards

)

select * from final
where problem is not null
