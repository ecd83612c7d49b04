{% macro allocate_proportionally(amount, weight, partition_by) %}
    {#- amount x this row's weight / the weights of its partition: the pool-cost-times-usage-
        share pattern. Null where the partition's weights sum to zero, so the caller sends
        that amount to a reserved bucket instead of dropping it. -#}
    {{ amount }} * {{ safe_divide(
        weight, exact_sum(weight, over='partition by ' ~ partition_by | join(', '))
    ) }}
{% endmacro %}
