{% macro otlp_list_notes(relation, list, json_path, not_a_list, absent, scope_index) %}
    {#- The body of a CTE: a note for each row of `relation` (filename, line_number, read_at,
        resource_index, line_text) whose OTLP list `list` yields no entries. An absent or
        empty list is allowed (`absent`); a value of another JSON type is not OTLP
        (`not_a_list`): `json_type` re-reads the line's text at `json_path` for these rows
        only, where the typed decode found nothing. -#}
    select
        filename,
        line_number,
        read_at,
        resource_index,
        {{ scope_index }} as scope_index,
        case
            when
                {{ list }} is null
                and coalesce(json_type(line_text, {{ json_path }}), 'NULL') != 'NULL'
                then '{{ not_a_list }}'
            else '{{ absent }}'
        end as line_note,
        left(line_text, 200) as line_excerpt
    from {{ relation }}
    where {{ list }} is null or len({{ list }}) = 0
{%- endmacro %}
