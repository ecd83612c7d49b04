{% macro differs_beyond_tolerance(left, right, relative_tolerance=1e-9) %}
    {#- True where two sums differ by more than the relative tolerance (nulls count as 0):
        float sums of the same numbers in another order differ in the last bits. -#}
    (
        abs(coalesce({{ left }}, 0) - coalesce({{ right }}, 0))
        > {{ relative_tolerance }} * greatest(abs(coalesce({{ left }}, 0)), 1)
    )
{% endmacro %}
