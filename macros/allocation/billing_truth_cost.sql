{% macro billing_truth_cost() %}
    {#- The staged FOCUS cost column the var `billing_cost_column` names as the truth:
        effective_cost (EffectiveCost, the default), billed_cost or list_cost. -#}
    {%- set column = var('billing_cost_column') -%}
    {%- if column == 'BilledCost' -%}
        billed_cost
    {%- elif column == 'ListCost' -%}
        list_cost
    {%- elif column == 'EffectiveCost' -%}
        effective_cost
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var billing_cost_column must be EffectiveCost, BilledCost or ListCost, not '"
            ~ column ~ "'"
        ) }}
    {%- endif -%}
{% endmacro %}
