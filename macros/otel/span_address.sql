{% macro span_address(relation=none) -%}
    {#- The columns that say where a span was read: its file and line, and its place in the
        line (resource, scope, span). Together they identify one received span, duplicates
        included; `relation` qualifies each with a table alias. -#}
    {{- qualified_columns(
        ['filename', 'line_number', 'resource_index', 'scope_index', 'span_index'], relation
    ) -}}
{%- endmacro %}
