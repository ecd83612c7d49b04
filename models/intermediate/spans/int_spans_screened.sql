-- Grain: one row per span object received (as stg_otel__spans).
-- Guarantees: each span gets exactly one `span_status`: `quarantined` (with the reason from
-- staging), `duplicate` (a later delivery of a (trace_id, span_id) already received, with
-- the same content), `conflicting_duplicate` (a later delivery with the same ids but other
-- content: times, names, attributes or events differ) or `accepted`. Of several deliveries
-- the first in file and line order is kept, whatever their content (the Collector's files
-- sort by the time they were written), a SERVER one after the others; `kept_delivery`
-- names it on the later ones. Downstream models read `accepted`.
-- A Zipkin shared span (B3's default in Brave and Envoy: the server half of an RPC reuses
-- the client half's span id and parent) is two spans: a CLIENT delivery is kept, then
-- SERVER deliveries of the same ids from another service (with the same parent, or none)
-- are the server half, de-duplicated among themselves.
-- Both are accepted in OpenTelemetry's shape: the server half keeps the id (the spans
-- below it name it as their parent) and becomes the child of the client half, which takes
-- the id `substr(md5(span_id || '/client'), 1, 16)`.
-- Incremental by the span's start day (see macros/incremental/day_window.sql): a redelivery
-- starts when the first delivery did, so a run screens only the spans of the days it
-- rebuilds, and compares them with the accepted spans of the `trace_lookbehind_days` before
-- (a second version whose start moved a little). The days are chosen on the stored
-- `raw_start_day`, so older files' rows are skipped unread. Spans with no start day in
-- bounds (quarantined by their times) are screened on every run: a start that was in the
-- future may be in bounds now. Late spans of days before the window wait for a backfill;
-- span_accounting counts them.
{{ config(
    pre_hook="{{ delete_rows_without_day('start_day') }}",
    **bigquery_layout('start_day', ['trace_id'])
) }}
{%- set window = day_window() %}
{%- set earliest_day = var('earliest_span_date', '2020-01-01') | string %}
with

spans as (

    -- The typed columns only: the raw attribute and event lists stay in staging
    -- (stg_otel__span_attributes, stg_otel__span_events), so no table copies them.
    select
        {{ span_address() }},
        trace_id,
        span_id,
        parent_span_id,
        trace_state,
        span_name,
        span_kind,
        status_code,
        status_message,
        start_ns,
        end_ns,
        scope_name,
        service_name,
        cloud_region,
        host_type,
        service_instance_id,
        feature_id,
        feature_group_attribute,
        tenant_id,
        feature_variant,
        db_system,
        server_address,
        db_rows_returned,
        {{ usage_attributes() }},
        db_query_event_count,
        flag_keys_evaluated,
        flag_keys_evaluated_off,
        link_count,
        linked_spans,
        start_at,
        end_at,
        start_day,
        sampling_weight,
        quarantine_reason,
        content_fingerprint,
        raw_start_day
    from {{ ref('stg_otel__spans') }}
    {%- if window.start or window.end %}
        where
            ({{ in_day_window('raw_start_day', window) }})
            or raw_start_day is null
            or raw_start_day < cast('{{ earliest_day[:10] }}' as date)
            or raw_start_day > cast({{ dbt.current_timestamp() }} as date)
    {%- endif %}

),

{% if window.start and not window.get('first_build') -%}
    earlier_deliveries as (

        -- Accepted spans of the days just before the window, already screened: a later
        -- delivery with the same ids is their duplicate.
        select
            trace_id,
            span_id,
            content_fingerprint,
            filename || ':' || cast(line_number as {{ dbt.type_string() }}) as kept_delivery
        from {{ this }}
        where
            span_status = 'accepted'
            and start_day < cast('{{ window.start }}' as date)
            and {{ in_day_window('start_day', window, var('trace_lookbehind_days')) }}

    ),
{%- endif %}

deliveries as (

    select
        *,
        row_number() over deliveries as delivery_number,
        first_value(content_fingerprint) over deliveries as kept_fingerprint,
        first_value(filename) over deliveries as kept_filename,
        first_value(line_number) over deliveries as kept_line_number,
        -- The kept delivery and the first SERVER one, for a Zipkin shared span.
        first_value(span_kind) over deliveries as kept_span_kind,
        first_value(service_name) over deliveries as kept_service_name,
        coalesce(first_value(parent_span_id) over deliveries, '') as kept_parent_span_id,
        first_value(case when span_kind = 'SERVER' then service_name end ignore nulls) over (
            deliveries rows between unbounded preceding and unbounded following
        ) as server_service_name,
        first_value(
            case when span_kind = 'SERVER' then coalesce(parent_span_id, '') end ignore nulls
        ) over (
            deliveries rows between unbounded preceding and unbounded following
        ) as server_parent_span_id,
        count(case when span_kind = 'SERVER' then 1 end) over deliveries as server_number,
        first_value(
            case when span_kind = 'SERVER' then content_fingerprint end ignore nulls
        ) over deliveries as server_kept_fingerprint,
        first_value(
            case when span_kind = 'SERVER' then filename end ignore nulls
        ) over deliveries as server_kept_filename,
        first_value(
            case when span_kind = 'SERVER' then line_number end ignore nulls
        ) over deliveries as server_kept_line_number
    from spans
    window deliveries as (
        partition by trace_id, span_id, quarantine_reason is null
        order by
            span_kind = 'SERVER', filename, line_number, resource_index, scope_index,
            span_index
    )

),

ranked as (

    -- Each delivery against the first of its group: the server half of a Zipkin shared
    -- span is a group of its own. A pair is B3's shape: a CLIENT delivery kept, and a first
    -- SERVER one from another service, with the same parent or none (B3's parent id header
    -- is optional); else (a span re-exported with another kind) SERVER deliveries are later
    -- deliveries of the span kept.
    {%- set is_shared_span = "coalesce(kept_span_kind = 'CLIENT'
        and server_service_name != kept_service_name
        and server_parent_span_id in (kept_parent_span_id, ''), false)" %}
    {%- set is_server_half = is_shared_span ~ " and span_kind = 'SERVER'" %}
    {%- set server_half_columns = {
        'delivery_number': 'server_number',
        'kept_fingerprint': 'server_kept_fingerprint',
        'kept_filename': 'server_kept_filename',
        'kept_line_number': 'server_kept_line_number'
    } %}
    select
        {{ star_except(
            server_half_columns.keys() | list + server_half_columns.values() | list
            + [
                'kept_span_kind', 'kept_service_name', 'kept_parent_span_id',
                'server_service_name', 'server_parent_span_id'
            ]
        ) }},
        {%- for column, server_column in server_half_columns.items() %}
            case
                when {{ is_server_half }} then {{ server_column }} else {{ column }}
            end as {{ column }},
        {%- endfor %}
        {{ is_server_half }} as is_server_half,
        {{ is_shared_span }} and span_kind != 'SERVER' as is_client_half
    from deliveries

),

{% if window.start and not window.get('first_build') -%}
    redelivered as (

        -- The window's sound deliveries of a span accepted before the window.
        select
            {{ span_address('ranked') }},
            earlier_deliveries.kept_delivery,
            earlier_deliveries.content_fingerprint as kept_fingerprint
        from ranked
        inner join earlier_deliveries using (trace_id, span_id)
        where ranked.quarantine_reason is null

    ),
{%- else -%}
    redelivered as (

        -- A full build screens every day at once, and the first batch of a history built
        -- in batches is the oldest: nothing was accepted before either.
        select
            {{ span_address() }},
            cast(null as {{ dbt.type_string() }}) as kept_delivery,
            cast(null as {{ dbt.type_string() }}) as kept_fingerprint
        from ranked
        where false

    ),
{%- endif %}

checked as (

    select
        ranked.*,
        redelivered.kept_delivery as earlier_kept_delivery,
        redelivered.kept_fingerprint as earlier_kept_fingerprint
    from ranked
    left join redelivered using (filename, line_number, resource_index, scope_index, span_index)

),

screened as (

    select
        {{ star_except([
            'delivery_number', 'kept_fingerprint', 'kept_filename', 'kept_line_number',
            'earlier_kept_delivery', 'earlier_kept_fingerprint'
        ]) }},
        case
            when quarantine_reason is not null then null
            when earlier_kept_delivery is not null then earlier_kept_delivery
            when delivery_number > 1
                then kept_filename || ':' || cast(kept_line_number as {{ dbt.type_string() }})
        end as kept_delivery,
        case
            when quarantine_reason is not null then 'quarantined'
            when
                earlier_kept_delivery is not null
                and content_fingerprint != earlier_kept_fingerprint
                then 'conflicting_duplicate'
            when earlier_kept_delivery is not null then 'duplicate'
            when delivery_number > 1 and content_fingerprint != kept_fingerprint
                then 'conflicting_duplicate'
            when delivery_number > 1 then 'duplicate'
            else 'accepted'
        end as span_status
    from checked

),

final as (

    -- The accepted halves of a Zipkin shared span in OpenTelemetry's shape.
    {%- set client_half_span_id = "substr(" ~ dbt.hash("span_id || '/client'") ~ ", 1, 16)" %}
    select
        {{ star_except(['span_id', 'parent_span_id', 'is_server_half', 'is_client_half']) }},
        case
            when is_client_half and span_status = 'accepted' then {{ client_half_span_id }}
            else span_id
        end as span_id,
        case
            when is_server_half and span_status = 'accepted' then {{ client_half_span_id }}
            else parent_span_id
        end as parent_span_id
    from screened

)

select * from final
