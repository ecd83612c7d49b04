{{ config(schema='feature_cost_marts') }}

select
    cast(date_day as date) as date_day,
    count(*) as request_count,
    sum(cast(cost as double)) as total_cost
from {{ source('probe', 'requests') }}
group by 1
