{% macro sampling_weight(trace_state) %}
    {#- The adjusted count of a span sampled with an OpenTelemetry sampling threshold: the
        W3C trace state's `ot=th:<hex>` entry gives the rejection threshold T (up to 14 hex
        digits, right-padded with zeros), and each kept span stands for 2^56 / (2^56 - T)
        spans. 1 when the trace state carries no threshold (unsampled or 100% sampled). -#}
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
    nullif(regexp_extract({{ trace_state }}, 'ot=[^,]*th:([0-9a-f]{1,14})', 1), '')
{% endmacro %}

{% macro bigquery__sampling_threshold_hex(trace_state) %}
    regexp_extract({{ trace_state }}, r'ot=[^,]*th:([0-9a-f]{1,14})')
{% endmacro %}
