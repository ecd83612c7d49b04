{#- Run before any node (on-run-start). The seed folder FEATURE_COST_SEEDS names must be a
    path inside the project: dbt writes each seed's SQL to target/run/<project>/<seed path>,
    which for an absolute path is the seed file itself (and for `..` a file outside target/),
    so such a folder would have its CSVs overwritten by SQL. Renders no SQL. -#}
{% macro assert_seed_folder_inside_project() -%}
    {%- set folder = env_var('FEATURE_COST_SEEDS', '') | trim -%}
    {%- set path = folder.replace('\\', '/') -%}
    {%- if folder and (path.startswith('/') or path.startswith('~') or '..' in path.split('/')
        or path[1:2] == ':') -%}
        {{ exceptions.raise_compiler_error(
            "FEATURE_COST_SEEDS=" ~ folder ~ " is not a folder inside the project: dbt writes"
            ~ " each seed's SQL to target/run/ at the seed's path, which for this path is the"
            ~ " seed file itself. Give the folder relative to the project, e.g."
            ~ " feature_cost_local/seeds (feature-cost init writes it there)."
        ) }}
    {%- endif -%}
{%- endmacro %}
