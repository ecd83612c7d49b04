{% macro flag_keys_evaluated(events, only_off=false) %}
    {#- The flag keys a span's `feature_flag.evaluation` events (and the older `feature_flag`
        span events) evaluated, sorted, distinct and comma-separated (null when none).
        `only_off`: only the evaluations that came out off: a result value (else variant)
        of `false`, `off` or `disabled`, in any case. The key is `feature_flag.key`; the
        result `feature_flag.result.value`, else `feature_flag.result.variant`, else the
        older `feature_flag.variant`, else `disabled` where the reason says so. -#}
    {{ return(adapter.dispatch('flag_keys_evaluated', 'feature_cost')(events, only_off)) }}
{% endmacro %}

{% macro flag_event_result(attributes) -%}
    {#- An evaluation's result: its value, else its variant, else `disabled` when the
        provider reports the flag disabled (`feature_flag.result.reason`) and no value. -#}
    lower(coalesce(
        {{ otel_attribute(attributes, 'feature_flag.result.value') }},
        {{ otel_attribute(attributes, 'feature_flag.result.variant') }},
        {{ otel_attribute(attributes, 'feature_flag.variant') }},
        case
            when
                lower({{ otel_attribute(
                    attributes, ['feature_flag.result.reason', 'feature_flag.evaluation.reason']
                ) }}) = 'disabled'
                then 'disabled'
        end
    ))
{%- endmacro %}

{% macro default__flag_keys_evaluated(events, only_off) %}
    nullif(array_to_string(list_sort(list_distinct(list_transform(
        list_filter({{ events }}, lambda flag_event:
            flag_event.name in ('feature_flag.evaluation', 'feature_flag')
            {%- if only_off %}
                and {{ flag_event_result('flag_event.attributes') }}
                in ('false', 'off', 'disabled')
            {%- endif %}
        ),
        lambda flag_event: {{ otel_attribute('flag_event.attributes', 'feature_flag.key') }}
    ))), ','), '')
{% endmacro %}

{% macro bigquery__flag_keys_evaluated(events, only_off) %}
    (
        select nullif(string_agg(distinct flag_key, ',' order by flag_key), '')
        from (
            select {{ otel_attribute('flag_event.attributes', 'feature_flag.key') }} as flag_key
            from unnest({{ events }}) as flag_event
            where
                flag_event.name in ('feature_flag.evaluation', 'feature_flag')
                {%- if only_off %}
                    and {{ flag_event_result('flag_event.attributes') }}
                    in ('false', 'off', 'disabled')
                {%- endif %}
        )
    )
{% endmacro %}
