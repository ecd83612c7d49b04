-- With the var `slow`, keeps dbt busy for minutes after the mart was written (the build file
-- then has a write-ahead log): the tests stop or kill dbt in the middle of a build.
select sum(r.range % 7) as n
from {{ ref('feature_cost_margin') }}
cross join range({{ 20000000000 if var('slow', false) else 1 }}) as r
