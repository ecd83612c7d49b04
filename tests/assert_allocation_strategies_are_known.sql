-- Every feature's allocation_strategy must name a driver the model can measure; an unknown
-- name would silently weigh the feature at zero in cost-weighted pools. Returns each
-- offending feature with the names that are accepted.
select
    feature_id,
    allocation_strategy,
    'unknown allocation_strategy; use one of proportional_duration, proportional_queries, '
    || 'gpu_minutes, memory_usage' as problem
from {{ ref('feature_taxonomy') }}
where
    allocation_strategy is null
    or allocation_strategy not in (
        'proportional_duration', 'proportional_queries', 'gpu_minutes', 'memory_usage'
    )
