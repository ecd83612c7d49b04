{% test sums_agree(model, expression, compare_model, compare_expression, group_by=[]) %}
{#- Conservation: the sum of `expression` over the model equals the sum of
    `compare_expression` over `compare_model`, per combination of the `group_by` columns
    (both relations have them), or over the whole of both when there are none. A group on
    one side only compares with 0, and the tolerance is relative to `compare_model`'s sum
    (float sums of the same numbers in another order differ in the last bits). Fails with
    each group whose sums differ. -#}
{%- set keys -%}
    {%- for column in group_by %}{{ column }}, {% endfor -%}
{%- endset %}
with

both_sides as (

    select
        {{ keys }}{{ expression }} as amount,
        0 as compare_amount
    from {{ model }}

    union all

    select
        {{ keys }}0 as amount,
        {{ compare_expression }} as compare_amount
    from {{ compare_model }}

)

select
    {{ keys }}sum(amount) as total,
    sum(compare_amount) as compare_total
from both_sides
{% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
having {{ differs_beyond_tolerance('sum(compare_amount)', 'sum(amount)') }}
{% endtest %}
