-- Grain: one row per line of every file matched by `otlp_path` (the empty remainder after a
-- file's final newline is not a line), plus one row (line 0) per file that could not be
-- read at all.
-- Guarantees: every line is kept, numbered from 1 within its file, with a `line_status`:
-- `json` (valid JSON: the spans model decodes it), `blank` (whitespace only: skipped and
-- counted), `invalid_json`, `invalid_utf8` (bytes that are not UTF-8: the line's text is
-- kept with those bytes written as \xNN), or `unreadable_file` (compressed data of which
-- nothing could be decompressed). A bad line or file never stops the build. Files are read
-- as bytes; gzip and zstd files (recognized by their magic bytes, whatever their name) are
-- decompressed by `feature_cost_decompress` (src/feature_cost/duckdb_plugin.py).
-- Incremental by file: a build reads only files that are new or changed (size or
-- modification time, from the files' metadata: unchanged files are not opened) since the
-- last one and replaces their lines, stamped with the run's start (`read_at`); files the
-- glob no longer matches keep their lines (history survives log rotation; `--full-refresh`
-- forgets them). Read when the var `span_source` is `otlp_json`.
{{ config(enabled=var('span_source') == 'otlp_json') }}
{{ assert_otlp_files_readable() }}
{{ assert_otlp_glob_matches() }}
{%- set files_to_read = otlp_files_to_read(source('otel', 'otlp_trace_files')) %}
{%- set read_at = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)" %}
with

files as (

    select
        source_files.filename,
        source_files.content as raw_bytes,
        source_files.size as file_size,
        source_files.last_modified as file_modified_at
    {% if files_to_read is none -%}
        from {{ source('otel', 'otlp_trace_files') }} as source_files
    {%- elif files_to_read -%}
        -- Only the new or changed files are opened (their list was taken from metadata).
        from read_blob([
            {%- for file in files_to_read %}
                {{ sql_string_literal(file) }}{{ "," if not loop.last }}
            {%- endfor %}
        ]) as source_files
    {%- else -%}
        from {{ source('otel', 'otlp_trace_files') }} as source_files
        where false
    {%- endif %}

),

decompressed as (

    select
        filename,
        file_size,
        file_modified_at,
        case
            -- gzip, zstd, or zstd frames each behind its length (the file exporter's default
            -- with `compression: zstd`).
            when
                hex(raw_bytes[1:2]) = '1F8B'
                or hex(raw_bytes[1:4]) = '28B52FFD'
                or hex(raw_bytes[5:8]) = '28B52FFD'
                then feature_cost_decompress(raw_bytes)
            else raw_bytes
        end as file_bytes
    from files

),

decoded as (

    select
        filename,
        file_size,
        file_modified_at,
        file_bytes,
        try(decode(file_bytes)) as text_content
    from decompressed

),

utf8_lines as (

    -- The usual case: the whole file is UTF-8 text.
    select
        filename,
        file_size,
        file_modified_at,
        unnest(string_split(text_content, chr(10))) as line_text,
        generate_subscripts(string_split(text_content, chr(10)), 1) as line_number,
        len(string_split(text_content, chr(10))) as piece_count,
        true as is_utf8
    from decoded
    where text_content is not null

),

escaped_lines as (

    -- A file with bytes that are not UTF-8: split its bytes (as escaped text, where a
    -- newline is `\x0A` and a backslash `\x5C`, so the split is exact) and decode each line
    -- on its own, so only the bad lines are lost.
    select
        filename,
        file_size,
        file_modified_at,
        unnest(string_split(cast(file_bytes as varchar), '\x0A')) as escaped_text,
        generate_subscripts(string_split(cast(file_bytes as varchar), '\x0A'), 1) as line_number,
        len(string_split(cast(file_bytes as varchar), '\x0A')) as piece_count
    from decoded
    where text_content is null and file_bytes is not null

),

byte_lines as (

    select
        filename,
        file_size,
        file_modified_at,
        coalesce(try(decode(cast(escaped_text as blob))), escaped_text) as line_text,
        line_number,
        piece_count,
        try(decode(cast(escaped_text as blob))) is not null as is_utf8
    from escaped_lines

),

all_lines as (

    select * from utf8_lines
    union all
    select * from byte_lines

),

classified as (

    select
        filename,
        cast(line_number as bigint) as line_number,
        file_size,
        file_modified_at,
        {{ read_at }} as read_at,
        line_text,
        case
            when not is_utf8 then 'invalid_utf8'
            when trim(line_text, ' ' || chr(9) || chr(13)) = '' then 'blank'
            when coalesce(json_valid(line_text), false) then 'json'
            else 'invalid_json'
        end as line_status
    from all_lines
    -- The empty remainder after the final newline is not a line.
    where not (line_number = piece_count and line_text = '')

),

unreadable_files as (

    select
        filename,
        cast(0 as bigint) as line_number,
        file_size,
        file_modified_at,
        {{ read_at }} as read_at,
        cast(null as varchar) as line_text,
        'unreadable_file' as line_status
    from decoded
    where file_bytes is null

),

all_lines_and_files as (

    select * from classified
    union all
    select * from unreadable_files

),

final as (

    select
        *,
        -- The start of a line that is not JSON, kept so that audits need not read the text.
        case when line_status != 'json' then left(line_text, 200) end as line_excerpt
    from all_lines_and_files

)

select * from final
