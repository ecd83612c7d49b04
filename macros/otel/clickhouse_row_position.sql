{% macro clickhouse_row_position() %}
    {#- (filename, line_number) for a row of the ClickHouse layout: the Parquet file and row
        (from 1) on DuckDB; the table and day, and a stable row order within the day, on
        BigQuery. -#}
    {{ return(adapter.dispatch('clickhouse_row_position', 'feature_cost')()) }}
{% endmacro %}

{% macro default__clickhouse_row_position() %}
    filename,
    cast(file_row_number + 1 as bigint) as line_number
{% endmacro %}

{% macro bigquery__clickhouse_row_position() %}
    {#- Numbered within each day, so that the numbering never spans the whole table and a
        filter on the day can be applied below it. -#}
    '{{ var("clickhouse_spans_table") }}/' || cast(date(Timestamp) as string) as filename,
    row_number() over (
        partition by date(Timestamp) order by Timestamp, TraceId, SpanId
    ) as line_number
{% endmacro %}
