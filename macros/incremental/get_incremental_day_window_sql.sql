{% macro get_incremental_day_window_sql(arg_dict) %}
    {#- Incremental strategy `day_window` (DuckDB): delete from the target every day this run
        rebuilds - the days of its window (see day_window) and any other day its new rows
        fall on - then insert the new rows, in one transaction. A day of the window that has
        no rows any more ends up empty, as after a full refresh. BigQuery's insert_overwrite
        replaces the same day partitions. -#}
    {%- set day_column = (config.get('meta') or {}).get('day_window_column') -%}
    {%- set window = day_window() -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where
        {{ in_day_window(day_column, window) }}
        or {{ day_column }} in (
            select distinct {{ day_column }} from {{ arg_dict['temp_relation'] }}
        );

    insert into {{ arg_dict['target_relation'] }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }}
    from {{ arg_dict['temp_relation'] }}
{% endmacro %}
