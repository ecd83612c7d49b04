{% macro span_in_pool_scope(span, pool) %}
    {#- Whether a span's work falls in a shared resource's scope: same region (or `*`), the
        pool's service when it names one, and calls to the pool's server address when it
        names one. A pool that names neither covers all work in its region. -#}
    (
        {{ pool }}.cloud_region in ({{ span }}.cloud_region, '*')
        and ({{ pool }}.match_service_name is null
            or {{ pool }}.match_service_name = {{ span }}.service_name)
        and ({{ pool }}.match_server_address is null
            or {{ pool }}.match_server_address = {{ span }}.server_address)
    )
{% endmacro %}
