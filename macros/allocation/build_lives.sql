{% macro build_lives(build_costs) %}
    {#- The body of a CTE: each feature's build cost and its useful life (rule 7), from its
        launch date to the day `useful_life_months` later (exclusive). The one rule by which
        the amortization and its conservation test date a build's life. -#}
    select
        feature_id,
        build_cost,
        launch_date,
        cast({{ dbt.dateadd('month', 'useful_life_months', 'launch_date') }} as date)
            as end_of_life_date
    from {{ build_costs }}
{%- endmacro %}
