{% macro row_fingerprint(columns) %}
    {#- A hash of the values of `columns` (nested lists and structs included), equal for two
        rows exactly when every value is equal: tells a redelivered span from a second,
        different version with the same ids. -#}
    {{ return(adapter.dispatch('row_fingerprint', 'feature_cost')(columns)) }}
{% endmacro %}

{% macro default__row_fingerprint(columns) %}
    md5(cast(struct_pack({{ columns | join(', ') }}) as varchar))
{% endmacro %}

{% macro bigquery__row_fingerprint(columns) %}
    to_hex(md5(to_json_string(struct({{ columns | join(', ') }}))))
{% endmacro %}
