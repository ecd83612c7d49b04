{% macro same_instance_day(left, right) -%}
    {#- The join condition of two relations' rows for one instance on one day (rule 14): the
        same day, service, region and instance; a missing region matches a missing region.
        An instance-hour adds `and left.hour_number = right.hour_number`. -#}
    {{ left }}.date_day = {{ right }}.date_day
    and {{ left }}.service_name = {{ right }}.service_name
    and coalesce({{ left }}.cloud_region, '') = coalesce({{ right }}.cloud_region, '')
    and {{ left }}.instance_id = {{ right }}.instance_id
{%- endmacro %}
