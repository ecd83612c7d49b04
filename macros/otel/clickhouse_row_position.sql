{% macro clickhouse_row_position() %}
    {#- (filename, line_number) for a row of the ClickHouse layout: the Parquet file and row
        (from 1) on DuckDB; the table and a stable row order on BigQuery. -#}
    {{ return(adapter.dispatch('clickhouse_row_position', 'feature_cost')()) }}
{% endmacro %}

{% macro default__clickhouse_row_position() %}
    filename,
    cast(file_row_number + 1 as bigint) as line_number
{% endmacro %}

{% macro bigquery__clickhouse_row_position() %}
    '{{ var("clickhouse_spans_table") }}' as filename,
    row_number() over (order by Timestamp, TraceId, SpanId) as line_number
{% endmacro %}
