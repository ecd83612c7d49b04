{% macro assert_otlp_glob_matches() %}
    {#- Called by the one model that reads the files (base_otel__otlp_lines). A glob that
        matches no file stops a first build or a --full-refresh (DuckDB would read it as no
        spans, and the marts would be built from the seeds alone); on an incremental run it
        is a warning, as the decoded history outlives the rotation of the files (source
        freshness says when the Collector stopped writing). Only where the model runs:
        compiling (docs, linting) needs no files. -#}
    {%- if var('span_source') == 'otlp_json' and execute and flags.WHICH in ('run', 'build') %}
        {%- set matched = run_query(
            "select count(*) from glob(" ~ sql_string_literal(var('otlp_path')) ~ ")"
        ).columns[0].values()[0] %}
        {%- set problem = "the var otlp_path ('" ~ var('otlp_path') ~ "') matches no file." %}
        {%- if matched == 0 and is_incremental() %}
            {%- do exceptions.warn(
                problem ~ " No new spans are read; the spans decoded before are kept."
            ) %}
        {%- elif matched == 0 %}
            {{ exceptions.raise_compiler_error(
                problem ~ " Point it at the Collector's file exporter output, e.g. --vars"
                ~ " '{otlp_path: \"/var/lib/otelcol/traces/*.jsonl*\"}' (a path relative to"
                ~ " the folder dbt runs in, or absolute), or set span_source to read spans"
                ~ " from Parquet or a table."
            ) }}
        {%- endif %}
    {%- endif %}
{% endmacro %}
