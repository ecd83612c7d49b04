{% macro assert_otlp_files_readable() %}
    {#- OTLP/JSON files are read with DuckDB's file functions: on any other target, stop with
        a message that says what to do instead. -#}
    {%- if var('span_source') == 'otlp_json' and target.type != 'duckdb' %}
        {{ exceptions.raise_compiler_error(
            "span_source 'otlp_json' reads OTLP/JSON files, which only the DuckDB target can"
            ~ " do. On " ~ target.type ~ ", load spans into a table in the ClickHouse"
            ~ " exporter's otel_traces layout and run with"
            ~ " --vars '{span_source: clickhouse_table}'."
        ) }}
    {%- endif %}
{% endmacro %}
