{% macro string_map_to_key_values(string_map) %}
    {#- A string-to-string map (the ClickHouse exporter's attribute columns) -> a list of
        {key, value} structs, the shape the OTLP decoder produces. -#}
    {{ return(adapter.dispatch('string_map_to_key_values', 'feature_cost')(string_map)) }}
{% endmacro %}

{% macro default__string_map_to_key_values(string_map) %}
    coalesce(map_entries({{ string_map }}), [])
{% endmacro %}

{% macro bigquery__string_map_to_key_values(string_map) %}
    {#- BigQuery has no map type: such tables hold ARRAY<STRUCT<key, value>> already. -#}
    {{ string_map }}
{% endmacro %}
