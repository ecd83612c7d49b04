-- Grain: one row per span object received (duplicates and damaged spans included).
-- Guarantees: ids normalized to lowercase hex (base64 ids decoded), times as nanosecond
-- integers and UTC timestamps, span kind and status as names whether sent as integers or
-- names, the attributes the cost model reads as typed columns, and a `quarantine_reason`
-- for every span the cost model cannot use (null when the span is sound): bad ids, times
-- that are missing, reversed or out of bounds (before `earliest_span_date`, after the run
-- plus `future_span_tolerance_hours`, longer than `max_span_duration_hours`). Times are
-- only converted where they are within bounds, so no arithmetic can overflow. A
-- `content_fingerprint` tells a redelivery from a conflicting second version.
with

spans as (

    {% if var('span_source') == 'otlp_json' -%}
        -- Span rows only: the notes on lines without spans are in stg_otel__otlp_lines.
        select * from {{ ref('base_otel__spans') }}
        where line_note is null
    {%- else -%}
        select * from {{ ref('base_otel__clickhouse_spans') }}
    {%- endif %}

),

decoded as (

    select
        {{ span_address() }},
        {{ otlp_id('trace_id', 16) }} as trace_id,
        {{ otlp_id('span_id', 8) }} as span_id,
        nullif({{ otlp_id('parent_span_id', 8) }}, '') as parent_span_id,
        nullif(trace_state, '') as trace_state,
        span_name,
        case
            when upper(span_kind) in ('1', 'SPAN_KIND_INTERNAL', 'INTERNAL') then 'INTERNAL'
            when upper(span_kind) in ('2', 'SPAN_KIND_SERVER', 'SERVER') then 'SERVER'
            when upper(span_kind) in ('3', 'SPAN_KIND_CLIENT', 'CLIENT') then 'CLIENT'
            when upper(span_kind) in ('4', 'SPAN_KIND_PRODUCER', 'PRODUCER') then 'PRODUCER'
            when upper(span_kind) in ('5', 'SPAN_KIND_CONSUMER', 'CONSUMER') then 'CONSUMER'
            else 'UNSPECIFIED'
        end as span_kind,
        case
            when upper(status_code) in ('1', 'STATUS_CODE_OK', 'OK') then 'OK'
            when upper(status_code) in ('2', 'STATUS_CODE_ERROR', 'ERROR') then 'ERROR'
            else 'UNSET'
        end as status_code,
        status_message,
        {{ cast_or_null('start_time_unix_nano', dbt.type_bigint()) }} as start_ns,
        {{ cast_or_null('end_time_unix_nano', dbt.type_bigint()) }} as end_ns,
        raw_start_day,
        scope_name,
        resource_attributes,
        span_attributes,
        coalesce(span_events, []) as span_events,
        coalesce(span_links, []) as span_links
    from spans

),

typed as (

    select
        *,
        coalesce(
            nullif({{ otel_attribute('resource_attributes', 'service.name') }}, ''),
            'unknown_service'
        ) as service_name,
        {{ otel_attribute('resource_attributes', 'cloud.region') }} as cloud_region,
        {{ otel_attribute('resource_attributes', 'host.type') }} as host_type,
        -- The instance the span ran on (rule 14): the SDK's instance id, else the pod's, the
        -- container's or the function instance's that the Collector's or the SDK's resource
        -- detectors add, else the host's (a node runs many pods, so it comes last).
        {{ otel_attribute('resource_attributes', [
            'service.instance.id', 'k8s.pod.uid', 'container.id', 'faas.instance', 'host.id',
            'host.name'
        ]) }} as service_instance_id,
        nullif(trim({{ otel_attribute('span_attributes', 'feature.id') }}), '') as feature_id,
        {{ otel_attribute('span_attributes', ['feature.group', 'feature.category']) }}
            as feature_group_attribute,
        nullif(trim({{ otel_attribute('span_attributes', 'tenant.id') }}), '') as tenant_id,
        {{ otel_attribute('span_attributes', 'feature.variant') }} as feature_variant,
        {{ otel_attribute('span_attributes', ['db.system.name', 'db.system']) }} as db_system,
        {{ otel_attribute('span_attributes', 'server.address') }} as server_address,
        {{ cast_or_null(
            otel_attribute('span_attributes', 'db.response.returned_rows'), dbt.type_bigint()
        ) }} as db_rows_returned,
        -- The GenAI model and token counts, as integers: the semantic conventions' names
        -- (gen_ai.*), else their names before version 1.27 (`prompt_tokens`,
        -- `completion_tokens`, which OpenLLMetry and OpenLIT still write, with OpenLLMetry's
        -- cache and reasoning counts), else OpenInference's (llm.*).
        {{ otel_attribute('span_attributes', [
            'gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name'
        ]) }} as gen_ai_request_model,
        {%- for column, keys in [
            ('gen_ai_input_tokens', [
                'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens',
                'llm.token_count.prompt'
            ]),
            ('gen_ai_output_tokens', [
                'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens',
                'llm.token_count.completion'
            ]),
            ('gen_ai_cache_read_tokens', [
                'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens',
                'llm.token_count.prompt_details.cache_read'
            ]),
            ('gen_ai_cache_creation_tokens', [
                'gen_ai.usage.cache_creation.input_tokens',
                'gen_ai.usage.cache_creation_input_tokens',
                'llm.token_count.prompt_details.cache_write'
            ]),
            ('gen_ai_reasoning_tokens', [
                'gen_ai.usage.reasoning.output_tokens', 'gen_ai.usage.reasoning_tokens',
                'llm.token_count.completion_details.reasoning'
            ]),
        ] %}
            {{ cast_or_null(otel_attribute('span_attributes', keys), dbt.type_bigint()) }}
                as {{ column }},
        {%- endfor %}
        -- Sizes a span states for itself, else those of its resource.
        {%- for column, key in [
            ('cpu_cores_attribute', 'cost.cpu.cores'),
            ('memory_gb_attribute', 'cost.memory.gb'),
            ('gpu_count_attribute', 'cost.gpu.count'),
        ] %}
            {{ cast_or_null(
                'coalesce(' ~ otel_attribute('span_attributes', key)
                ~ ', ' ~ otel_attribute('resource_attributes', key) ~ ')',
                type_double()
            ) }} as {{ column }},
        {%- endfor %}
        {{ count_events_named('span_events', 'db.query') }} as db_query_event_count,
        {{ flag_keys_evaluated('span_events') }} as flag_keys_evaluated,
        {{ flag_keys_evaluated('span_events', only_off=true) }} as flag_keys_evaluated_off,
        {{ link_count('span_links') }} as link_count,
        {{ linked_spans('span_links', 'trace_id', 'span_id') }} as linked_spans
    from decoded

),

screened as (

    select
        *,
        case
            when
                not {{ is_lower_hex('trace_id', 32) }}
                or trace_id = repeat('0', 32)
                then 'invalid_trace_id'
            when
                not {{ is_lower_hex('span_id', 16) }}
                or span_id = repeat('0', 16)
                then 'invalid_span_id'
            when start_ns is null or end_ns is null or start_ns <= 0
                then 'invalid_timestamp'
            when end_ns < start_ns
                then 'ends_before_start'
            when start_ns < {{ earliest_span_nanos() }}
                then 'starts_before_earliest_date'
            when start_ns > {{ future_span_cutoff_nanos() }}
                then 'starts_in_the_future'
            when end_ns - start_ns > {{ max_span_duration_nanos() }}
                then 'duration_too_long'
            when end_ns > {{ future_span_cutoff_nanos() }}
                then 'ends_in_the_future'
        end as quarantine_reason,
        {{ row_fingerprint([
            'parent_span_id', 'trace_state', 'span_name', 'span_kind', 'status_code',
            'status_message', 'start_ns', 'end_ns', 'scope_name', 'resource_attributes',
            'span_attributes', 'span_events', 'span_links'
        ]) }} as content_fingerprint
    from typed

),

final as (

    -- A database call names its query or operation: a span that names none (the connection
    -- spans node-postgres and SQLAlchemy add) is no query. A size or token count that is no
    -- quantity (negative, NaN, infinite) is read as not sent. A batch consumer's links stand
    -- for the messages that carried a trace context; the rest of its
    -- `messaging.batch.message_count` is one more entry, with no ids. Times are converted
    -- only where both ends are in bounds (a quarantined span keeps its start day when its
    -- start is in bounds, for dating it in the accounting).
    select
        * replace (
            case
                when
                    db_system is not null
                    and {{ otel_attribute('span_attributes', [
                        'db.query.text', 'db.query.summary', 'db.operation.name',
                        'db.stored_procedure.name', 'db.statement', 'db.operation',
                    ]) }} is not null
                    then db_system
            end as db_system,
            {%- for column in usage_quantities() %}
                {{ quantity_or_null(column) }} as {{ column }},
            {%- endfor %}
            {{ with_unlinked_messages(
                'linked_spans', batch_message_count('span_attributes')
            ) }} as linked_spans
        ),
        case
            when quarantine_reason is null then {{ nanos_to_timestamp('start_ns') }}
        end as start_at,
        case
            when quarantine_reason is null then {{ nanos_to_timestamp('end_ns') }}
        end as end_at,
        case
            when
                start_ns between {{ earliest_span_nanos() }} and {{ future_span_cutoff_nanos() }}
                then {{ day_number_to_date(nanos_to_day_number('start_ns')) }}
        end as start_day,
        {{ sampling_weight('trace_state') }} as sampling_weight
    from screened

)

select * from final
