-- Grain: one row per change of a feature flag (global when tenant_id is null).
-- Guarantees: names and types only (a change time with an offset is read as the UTC time it
-- names); an empty tenant means every tenant. With the var `feature_flags_path` empty
-- (DuckDB) there is no flag-history file: no rows, and the `feature_flag.evaluation` events
-- of the telemetry alone say when a flag was off.
{%- set has_flag_file = target.type != 'duckdb' or var('feature_flags_path') %}
with

source as (

    {% if has_flag_file -%}
        select * from {{ source('app', 'feature_flags') }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_timestamp() }}) as changed_at,
            cast(null as {{ dbt.type_string() }}) as flag_key,
            cast(null as {{ dbt.type_string() }}) as feature_id,
            cast(null as {{ dbt.type_string() }}) as tenant_id,
            cast(null as boolean) as enabled
        where false
    {%- endif %}

),

final as (

    select
        {{ text_to_utc_timestamp('changed_at') }} as changed_at,
        trim(flag_key) as flag_key,
        trim(feature_id) as feature_id,
        nullif(trim(tenant_id), '') as tenant_id,
        cast(enabled as boolean) as is_enabled
    from source

)

select * from final
