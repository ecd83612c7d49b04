{% macro exact_sum(expression, over=none) %}
    {#- sum(expression) as a double that does not depend on the order of the rows: each value
        is taken as an exact decimal (18 decimal places; 38 digits on DuckDB, BIGNUMERIC on
        BigQuery), summed exactly and turned back into a double. A plain float sum differs
        in its last bits from run to run when the warehouse sums in parallel, so two builds
        of the same input would not be identical. `over`: a window (`partition by ...`) to
        sum over instead of a group. -#}
    {{ return(adapter.dispatch('exact_sum', 'feature_cost')(expression, over)) }}
{% endmacro %}

{% macro default__exact_sum(expression, over) -%}
    cast(sum(cast({{ expression }} as decimal(38, 18))){% if over %} over ({{ over }}){% endif %} as double)
{%- endmacro %}

{% macro bigquery__exact_sum(expression, over) -%}
    cast(sum(cast({{ expression }} as bignumeric)){% if over %} over ({{ over }}){% endif %} as float64)
{%- endmacro %}
