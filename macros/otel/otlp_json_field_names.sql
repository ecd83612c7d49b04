{% macro otlp_json_field_names(text) %}
    {#- `text` (an OTLP/JSON line) with the protobuf field names a producer may write instead
        of the JSON names (`resource_spans` for `resourceSpans`: protojson parsers, the
        Collector's among them, accept both) renamed to the JSON names the decoder reads.
        Only keys are renamed (a name in quotes followed by a colon; inside a string value the
        quotes are escaped), and only on lines that hold such a name, so camelCase lines pass
        unchanged at the cost of a few substring searches. -#}
    {%- set json_names = {
        'resource_spans': 'resourceSpans', 'scope_spans': 'scopeSpans',
        'trace_id': 'traceId', 'span_id': 'spanId', 'parent_span_id': 'parentSpanId',
        'trace_state': 'traceState', 'start_time_unix_nano': 'startTimeUnixNano',
        'end_time_unix_nano': 'endTimeUnixNano', 'time_unix_nano': 'timeUnixNano',
        'string_value': 'stringValue', 'bool_value': 'boolValue', 'int_value': 'intValue',
        'double_value': 'doubleValue', 'bytes_value': 'bytesValue',
        'array_value': 'arrayValue', 'kvlist_value': 'kvlistValue',
    } -%}
    {%- set renamed = namespace(sql=text) -%}
    {%- for proto_name, json_name in json_names.items() -%}
        {%- set renamed.sql = "replace(" ~ renamed.sql ~ ", '\"" ~ proto_name ~ "\":', '\""
            ~ json_name ~ "\":')" -%}
    {%- endfor -%}
    {#- Each name's last word and closing quote (`_id"`): a line holds a name only if it
        holds one of these. -#}
    {%- set endings = [] -%}
    {%- for proto_name in json_names -%}
        {%- set ending = '_' ~ proto_name.split('_') | last ~ '"' -%}
        {%- if ending not in endings -%}{%- do endings.append(ending) -%}{%- endif -%}
    {%- endfor -%}
    case
        when
            {%- for ending in endings %}
            {{ 'or ' if not loop.first }}contains({{ text }}, '{{ ending }}')
            {%- endfor %}
            then {{ renamed.sql }}
        else {{ text }}
    end
{% endmacro %}
