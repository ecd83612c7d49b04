-- Grain: one row per non-blank line of every OTLP/JSON Lines file matched by `otlp_path`.
-- Guarantees: every line is kept, numbered from 1 within its file, and marked valid or not,
-- so a corrupt line can be quarantined with its file and line number instead of failing the
-- build. Read when the var `span_source` is `otlp_json`.
-- Incremental by file: a build reads only files that are new or changed (size or
-- modification time, from the files' metadata: unchanged files are not opened) since the
-- last one and replaces their lines; files the glob no longer
-- matches keep their lines (history survives log rotation; `--full-refresh` forgets them).
{{ config(
    enabled=var('span_source') == 'otlp_json',
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='filename',
) }}
{{ assert_otlp_files_readable() }}
{%- set files_to_read = otlp_files_to_read(source('otel', 'otlp_trace_files')) %}
with

files as (

    select
        source_files.filename,
        source_files.content,
        source_files.size as file_size,
        source_files.last_modified as file_modified_at
    {% if files_to_read is none -%}
        from {{ source('otel', 'otlp_trace_files') }} as source_files
    {%- elif files_to_read -%}
        -- Only the new or changed files are opened (their list was taken from metadata).
        from read_text([
            {%- for file in files_to_read %}
                '{{ file | replace("'", "''") }}'{{ "," if not loop.last }}
            {%- endfor %}
        ]) as source_files
    {%- else -%}
        from {{ source('otel', 'otlp_trace_files') }} as source_files
        where false
    {%- endif %}

),

lines as (

    select
        filename,
        file_size,
        file_modified_at,
        unnest(string_split(content, chr(10))) as line_text,
        generate_subscripts(string_split(content, chr(10)), 1) as line_number
    from files

),

final as (

    select
        filename,
        cast(line_number as bigint) as line_number,
        file_size,
        file_modified_at,
        line_text,
        coalesce(json_valid(line_text), false) as is_valid_json
    from lines
    where trim(line_text) != ''

)

select * from final
