{% macro round_significant(value, digits=3) %}
    {#- `value` rounded to `digits` significant figures, for display columns only (stored
        numbers keep full precision). 0 stays 0; null stays null. -#}
    case
        when {{ value }} is null then null
        when {{ value }} = 0 then 0
        else round(
            {{ value }},
            cast({{ digits }} - 1 - floor(log10(abs({{ value }}))) as {{ dbt.type_int() }})
        )
    end
{% endmacro %}
