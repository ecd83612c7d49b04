-- Grain: one row per span object found in a valid OTLP/JSON line (duplicates included),
-- plus one row per valid line, resource or scope entry that yields no span objects, with a
-- `line_note` saying why (null on span rows).
-- Guarantees: the protobuf JSON mapping is decoded once (parsing JSON is the expensive
-- step); 64-bit integers are read whether written as strings or as numbers, unknown fields
-- are ignored, the protobuf field names (`resource_spans`) are read as the JSON names
-- (`resourceSpans`), and every attribute value type is kept, as text. Nothing is filtered here,
-- and nothing turns into zero spans silently: a line that is not a JSON object, or whose
-- `resourceSpans`, `scopeSpans` or `spans` is not a list, gets a note naming it
-- (`not_an_object`, `resource_spans_not_a_list`, `scope_spans_not_a_list`,
-- `spans_not_a_list`, `attributes_not_a_list`); an empty or absent list gets
-- `no_resource_spans` or `no_spans`.
-- Read when the var `span_source` is `otlp_json`; base_otel__clickhouse_spans yields the
-- same columns from the ClickHouse exporter's layout. Incremental by file, like
-- base_otel__otlp_lines: only the lines of new or changed files are decoded.
{{ config(enabled=var('span_source') == 'otlp_json') }}
{{ assert_otlp_files_readable() }}
{%- set any_value -%}
{"stringValue": "VARCHAR", "boolValue": "BOOLEAN", "intValue": "VARCHAR",
"doubleValue": "VARCHAR", "bytesValue": "VARCHAR", "arrayValue": "JSON", "kvlistValue": "JSON"}
{%- endset -%}
{%- set key_values = '[{"key": "VARCHAR", "value": ' ~ any_value ~ '}]' -%}
{%- set otlp_schema -%}
    {"resourceSpans": [{"resource": {"attributes": {{ key_values }}},
"scopeSpans": [{"scope": {"name": "VARCHAR", "version": "VARCHAR"},
"spans": [{"traceId": "VARCHAR", "spanId": "VARCHAR", "parentSpanId": "VARCHAR",
"traceState": "VARCHAR", "name": "VARCHAR", "kind": "VARCHAR",
"startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR",
"attributes": {{ key_values }},
"events": [{"timeUnixNano": "VARCHAR", "name": "VARCHAR", "attributes": {{ key_values }}}],
"links": [{"traceId": "VARCHAR", "spanId": "VARCHAR", "attributes": {{ key_values }}}],
"status": {"code": "VARCHAR", "message": "VARCHAR"}}]}]}]}
{%- endset %}

with

valid_lines as (

    select
        otlp_lines.filename,
        otlp_lines.line_number,
        otlp_lines.read_at,
        otlp_lines.line_text
    from {{ ref('base_otel__otlp_lines') }} as otlp_lines
    where otlp_lines.line_status = 'json'

),

{% if is_incremental() -%}
    new_versions as (

        -- File versions read since the last decode: each read stamps its lines with
        -- `read_at`, so only the few (filename, read_at) pairs are compared, and the lines
        -- of older reads are skipped on their stored min/max, not scanned.
        select distinct
            filename,
            read_at
        from {{ ref('base_otel__otlp_lines') }}
        where line_status = 'json'
        except
        select distinct
            filename,
            read_at
        from {{ this }}

    ),

    new_lines as (

        select valid_lines.*
        from valid_lines
        inner join new_versions using (filename, read_at)

    ),
{%- else -%}
    new_lines as (

        select * from valid_lines

    ),
{%- endif %}

named_lines as (

    select
        filename,
        line_number,
        read_at,
        {{ otlp_json_field_names('line_text') }} as line_text
    from new_lines

),

lines as (

    select
        filename,
        line_number,
        read_at,
        line_text,
        from_json(line_text, '{{ otlp_schema | replace("\n", " ") }}') as traces_data
    from named_lines

),

line_notes as (

    -- A line with no resource entries: absent or empty is fine, another shape is not.
    -- `json_type` re-reads the line only here, where the typed decode found nothing.
    select
        filename,
        line_number,
        read_at,
        0 as resource_index,
        0 as scope_index,
        case
            when not starts_with(ltrim(line_text, ' ' || chr(9) || chr(13)), '{')
                then 'not_an_object'
            when
                traces_data.resourceSpans is null
                and coalesce(json_type(line_text, '$.resourceSpans'), 'NULL') != 'NULL'
                then 'resource_spans_not_a_list'
            else 'no_resource_spans'
        end as line_note,
        left(line_text, 200) as line_excerpt
    from lines
    where traces_data.resourceSpans is null or len(traces_data.resourceSpans) = 0

),

attribute_notes as (

    -- OTLP/JSON writes attributes as a list of {key, value}; a producer that writes a JSON
    -- map is not OTLP: its spans are read without those attributes, and the line is named
    -- (a key followed by a colon can only be a key, so this text search has no false hits).
    select
        filename,
        line_number,
        read_at,
        0 as resource_index,
        0 as scope_index,
        'attributes_not_a_list' as line_note,
        left(line_text, 200) as line_excerpt
    from lines
    where regexp_matches(line_text, '"attributes"\s*:\s*\{')

),

resource_spans as (

    select
        filename,
        line_number,
        read_at,
        line_text,
        unnest(traces_data.resourceSpans) as resource_span,
        generate_subscripts(traces_data.resourceSpans, 1) as resource_index
    from lines

),

scope_spans as (

    select
        filename,
        line_number,
        read_at,
        resource_index,
        line_text,
        resource_span.resource.attributes as resource_attributes,
        unnest(resource_span.scopeSpans) as scope_span,
        generate_subscripts(resource_span.scopeSpans, 1) as scope_index
    from resource_spans

),

resource_notes as (

    {{ otlp_list_notes(
        'resource_spans', 'resource_span.scopeSpans',
        "'$.resourceSpans[' || (resource_index - 1) || '].scopeSpans'",
        'scope_spans_not_a_list', 'no_spans', scope_index='0'
    ) }}

),

spans as (

    select
        filename,
        line_number,
        read_at,
        resource_index,
        scope_index,
        resource_attributes,
        scope_span.scope.name as scope_name,
        unnest(scope_span.spans) as span,
        generate_subscripts(scope_span.spans, 1) as span_index
    from scope_spans

),

scope_notes as (

    {{ otlp_list_notes(
        'scope_spans', 'scope_span.spans',
        "'$.resourceSpans[' || (resource_index - 1) || '].scopeSpans['"
        ~ " || (scope_index - 1) || '].spans'",
        'spans_not_a_list', 'no_spans', scope_index='scope_index'
    ) }}

),

notes as (

    select * from line_notes
    union all
    select * from attribute_notes
    union all
    select * from resource_notes
    union all
    select * from scope_notes

),

final as (

    select
        filename,
        line_number,
        read_at,
        cast(resource_index as integer) as resource_index,
        cast(scope_index as integer) as scope_index,
        cast(span_index as integer) as span_index,
        span.traceId as trace_id,
        span.spanId as span_id,
        span.parentSpanId as parent_span_id,
        span.traceState as trace_state,
        span.name as span_name,
        span.kind as span_kind,
        span.startTimeUnixNano as start_time_unix_nano,
        span.endTimeUnixNano as end_time_unix_nano,
        -- The start's UTC day as received (null when unreadable): screening selects the days
        -- it rebuilds on this stored column, so old files' rows are skipped, not parsed.
        {{ day_number_to_date(nanos_to_day_number(
            cast_or_null('span.startTimeUnixNano', dbt.type_bigint())
        )) }} as raw_start_day,
        span.status.code as status_code,
        span.status.message as status_message,
        scope_name,
        {{ otel_attributes_as_text('resource_attributes') }} as resource_attributes,
        {{ otel_attributes_as_text('span.attributes') }} as span_attributes,
        list_transform(
            coalesce(span.events, []),
            lambda event: {
                'timeUnixNano': event.timeUnixNano,
                'name': event.name,
                'attributes': {{ otel_attributes_as_text('event.attributes') }}
            }
        ) as span_events,
        list_transform(
            coalesce(span.links, []),
            lambda link: {
                'traceId': link.traceId,
                'spanId': link.spanId,
                'attributes': {{ otel_attributes_as_text('link.attributes') }}
            }
        ) as span_links,
        cast(null as varchar) as line_note
    from spans

    union all by name

    select
        filename,
        line_number,
        read_at,
        cast(resource_index as integer) as resource_index,
        cast(scope_index as integer) as scope_index,
        0 as span_index,
        line_note,
        line_excerpt
    from notes

)

select * from final
