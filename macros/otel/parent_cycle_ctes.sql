{% macro parent_cycle_ctes(spans_cte) %}
    {#- CTEs (to place in a `with recursive` list) ending in `spans_in_parent_cycles`: the
        (trace_id, span_id) of every span that is its own ancestor (its parent links lead
        back to it: a span that is its own parent, two spans that are each other's parent,
        ...). Such a span is treated as a root. `spans_cte` needs trace_id, span_id,
        parent_span_id and start_ns. A cycle has at least one link whose parent does not
        start before its child, so only such links are walked, upwards, at most the var
        `max_trace_depth` (default 200) steps: a walk that comes back to where it started
        found a cycle. -#}
    {%- set max_depth = var('max_trace_depth', 200) | int %}
    parent_cycle_candidates as (

        select
            child.trace_id,
            child.span_id,
            child.parent_span_id
        from {{ spans_cte }} as child
        inner join {{ spans_cte }} as parent
            on
                child.trace_id = parent.trace_id
                and child.parent_span_id = parent.span_id
        where parent.start_ns >= child.start_ns

    ),

    parent_cycle_walk as (

        select
            trace_id,
            span_id as origin_span_id,
            parent_span_id as ancestor_span_id,
            1 as depth
        from parent_cycle_candidates

        union all

        select
            parent_cycle_walk.trace_id,
            parent_cycle_walk.origin_span_id,
            ancestor.parent_span_id as ancestor_span_id,
            parent_cycle_walk.depth + 1 as depth
        from parent_cycle_walk
        inner join {{ spans_cte }} as ancestor
            on
                parent_cycle_walk.trace_id = ancestor.trace_id
                and parent_cycle_walk.ancestor_span_id = ancestor.span_id
        where
            parent_cycle_walk.ancestor_span_id != parent_cycle_walk.origin_span_id
            and ancestor.parent_span_id is not null
            and parent_cycle_walk.depth < {{ max_depth }}

    ),

    closed_parent_cycles as (

        select distinct
            trace_id,
            origin_span_id
        from parent_cycle_walk
        where ancestor_span_id = origin_span_id

    ),

    spans_in_parent_cycles as (

        -- Every span on a walk that came back to its origin lies on the cycle.
        select distinct
            parent_cycle_walk.trace_id,
            parent_cycle_walk.ancestor_span_id as span_id
        from parent_cycle_walk
        inner join closed_parent_cycles using (trace_id, origin_span_id)

    ),
{%- endmacro %}
