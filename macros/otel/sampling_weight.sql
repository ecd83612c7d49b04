{% macro sampling_weight(trace_state) %}
    {#- The adjusted count of a span sampled with an OpenTelemetry sampling threshold: the
        W3C trace state's `ot` entry (list members split by commas, the `ot` value's sub-keys by
        semicolons) gives in its `th` sub-key the rejection threshold T (up to 14 hex digits,
        right-padded with zeros), and each kept span stands for 2^56 / (2^56 - T) spans. 1 when
        the trace state carries no threshold (unsampled or 100% sampled); another vendor's
        entry (`dot=th:8`) or sub-key (`ot=xth:8`) is not one. -#}
    coalesce(
        72057594037927936.0 / nullif(
            72057594037927936 - {{ cast_or_null(
                "'0x' || rpad(" ~ sampling_threshold_hex(trace_state) ~ ", 14, '0')",
                dbt.type_bigint()
            ) }},
            0
        ),
        1.0
    )
{% endmacro %}

{% macro sampling_threshold_hex(trace_state) %}
    {{ return(adapter.dispatch('sampling_threshold_hex', 'feature_cost')(trace_state)) }}
{% endmacro %}

{% macro default__sampling_threshold_hex(trace_state) %}
    nullif(regexp_extract({{ trace_state }}, '{{ sampling_threshold_pattern() }}', 1), '')
{% endmacro %}

{% macro bigquery__sampling_threshold_hex(trace_state) %}
    regexp_extract({{ trace_state }}, r'{{ sampling_threshold_pattern() }}')
{% endmacro %}

{% macro sampling_threshold_pattern() -%}
    {#- The `th` sub-key of the trace state's `ot` entry; one capturing group (BigQuery allows
        no more). -#}
    (?:^|,)[ \t]*ot=(?:[^,;]*;)*th:([0-9a-f]{1,14})(?:[;, \t]|$)
{%- endmacro %}
