{% macro delete_rows_without_day(day_column) %}
    {#- Pre-hook of an incremental model keyed by day whose undated rows are rebuilt on every
        run: deletes them first (the day window cannot name them). Nothing on a first build
        or --full-refresh. -#}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where {{ day_column }} is null
    {%- endif -%}
{% endmacro %}
