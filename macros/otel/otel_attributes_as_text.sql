{% macro otel_attributes_as_text(key_values) %}
    {#- An OTLP KeyValue list -> a list of {key, value} structs with the value as text,
        whatever its type: strings as they are, booleans as true/false, integers and
        doubles in decimal, bytes in base64, arrays and key/value lists as JSON. -#}
    {{ return(adapter.dispatch('otel_attributes_as_text', 'feature_cost')(key_values)) }}
{% endmacro %}

{% macro default__otel_attributes_as_text(key_values) %}
    list_transform(
        coalesce({{ key_values }}, []),
        lambda kv: {
            'key': kv.key,
            'value': coalesce(
                kv.value.stringValue,
                cast(kv.value.boolValue as varchar),
                kv.value.intValue,
                kv.value.doubleValue,
                kv.value.bytesValue,
                cast(kv.value.arrayValue as varchar),
                cast(kv.value.kvlistValue as varchar)
            )
        }
    )
{% endmacro %}
