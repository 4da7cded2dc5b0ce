{#-
    Post-hook of the intermediate models: fresh planner statistics for the next model (tables
    written by CTAS or delete+insert have none until autovacuum runs). A model may list the
    columns that matter for planning in `analyze_columns`: statistics of wide array columns are
    costly to gather and no plan uses them (measured: docs/benchmarks.md, "Why the assignment SQL looks like this").
    Views have no statistics of their own: nothing to do.
-#}
{% macro shopseg_analyze() %}
    {%- if config.get('materialized') != 'view' -%}
        {%- set columns = config.get('analyze_columns') -%}
        analyze {{ this }}{% if columns %} ({{ columns | join(', ') }}){% endif %}
    {%- endif -%}
{% endmacro %}
