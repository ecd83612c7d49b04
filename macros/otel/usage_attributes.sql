{% macro usage_quantities() -%}
    {#- The columns of the quantities a span states for pricing: the GenAI token counts and
        the sizes it states for itself (stg_otel__spans types them and keeps only real
        quantities). -#}
    {{ return([
        'gen_ai_input_tokens',
        'gen_ai_output_tokens',
        'gen_ai_cache_read_tokens',
        'gen_ai_cache_creation_tokens',
        'gen_ai_reasoning_tokens',
        'cpu_cores_attribute',
        'memory_gb_attribute',
        'gpu_count_attribute',
    ]) }}
{%- endmacro %}

{% macro usage_attributes(relation=none) -%}
    {#- The attributes only pricing reads: the GenAI model and the quantities of
        usage_quantities. Screening and attribution carry them unchanged, so a new one is
        added there and in staging. `relation` qualifies each with a table alias. -#}
    {{- qualified_columns(['gen_ai_request_model'] + usage_quantities(), relation) -}}
{%- endmacro %}
