-- Grain: one row per non-blank line of every OTLP/JSON Lines file matched by `otlp_path`.
-- Guarantees: every line is kept, numbered from 1 within its file, and marked valid or not,
-- so a corrupt line can be quarantined with its file and line number instead of failing the
-- build. Read when the var `span_source` is `otlp_json`.
{{ config(enabled=var('span_source') == 'otlp_json') }}
{%- if var('span_source') == 'otlp_json' and target.type != 'duckdb' %}
    {{ exceptions.raise_compiler_error(
        "span_source 'otlp_json' reads OTLP/JSON files, which only the DuckDB target can do. "
        ~ "On " ~ target.type ~ ", load spans into a table in the ClickHouse exporter's "
        ~ "otel_traces layout and run with --vars '{span_source: clickhouse_table}'."
    ) }}
{%- endif %}
with

files as (

    select
        filename,
        content
    from {{ source('otel', 'otlp_trace_files') }}

),

lines as (

    select
        filename,
        unnest(string_split(content, chr(10))) as line_text,
        generate_subscripts(string_split(content, chr(10)), 1) as line_number
    from files

),

final as (

    select
        filename,
        cast(line_number as bigint) as line_number,
        line_text,
        coalesce(json_valid(line_text), false) as is_valid_json
    from lines
    where trim(line_text) != ''

)

select * from final
