{% macro otlp_files_to_read(files_relation) %}
    {#- On an incremental run of base_otel__otlp_lines: the files matched by `otlp_path`
        that are new, or whose size or modification time changed, since the last run -
        decided from file metadata alone, so unchanged files are never read. None on a
        first build or --full-refresh (every file is read). -#}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select source_files.filename
        from {{ files_relation }} as source_files
        where not exists (
            select 1
            from {{ this }} as loaded
            where
                loaded.filename = source_files.filename
                and loaded.file_size = source_files.size
                and loaded.file_modified_at = source_files.last_modified
        )
        order by source_files.filename
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}
