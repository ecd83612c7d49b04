-- Fails the build when the var `fail_build` is set: a failed build publishes nothing.
select *
from {{ ref('feature_cost_margin') }}
where {{ var('fail_build', false) }}
