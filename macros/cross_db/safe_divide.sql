{% macro safe_divide(numerator, denominator) %}
    {#- numerator / denominator, null where the denominator is zero or null (never an error). -#}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{% endmacro %}
