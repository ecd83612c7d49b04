{% macro otlp_id(text, id_bytes) %}
    {#- An OTLP trace id (`id_bytes` 16) or span id (8) as lowercase hex, trimmed. OTLP/JSON
        writes ids in hex, in either case; the standard protobuf JSON mapping (Go's protojson,
        Python's MessageToJson) writes the same bytes in base64, which is decoded when the
        text is exactly the canonical base64 of that many bytes. Anything else is only
        trimmed and lowercased: screening quarantines it. -#}
    {{ return(adapter.dispatch('otlp_id', 'feature_cost')(text, id_bytes)) }}
{% endmacro %}

{% macro otlp_id_base64_pattern(id_bytes) -%}
    {#- The canonical base64 of 16 bytes (22 characters, the last of A, Q, g, w, then `==`) or
        of 8 (11 characters, the last a multiple of 4, then `=`). -#}
    {%- if id_bytes == 16 -%}
        ^[A-Za-z0-9+/]{21}[AQgw]==$
    {%- elif id_bytes == 8 -%}
        ^[A-Za-z0-9+/]{10}[AEIMQUYcgkosw048]=$
    {%- else -%}
        {{ exceptions.raise_compiler_error('otlp_id: id_bytes must be 16 or 8, not ' ~ id_bytes) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__otlp_id(text, id_bytes) %}
    case
        when regexp_matches(trim({{ text }}), '{{ otlp_id_base64_pattern(id_bytes) }}')
            then lower(hex(from_base64(trim({{ text }}))))
        else lower(trim({{ text }}))
    end
{% endmacro %}

{% macro bigquery__otlp_id(text, id_bytes) %}
    case
        when regexp_contains(trim({{ text }}), r'{{ otlp_id_base64_pattern(id_bytes) }}')
            then to_hex(from_base64(trim({{ text }})))
        else lower(trim({{ text }}))
    end
{% endmacro %}
