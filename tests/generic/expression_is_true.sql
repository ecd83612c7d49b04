{% test expression_is_true(model, expression) %}
{#- Fails with every row for which the boolean expression is not true (null counts as a
    failure, so a missing value cannot pass silently). -#}
select *
from {{ model }}
where not coalesce({{ expression }}, false)
{% endtest %}
