{#-
    Pre-hook for models that write large jsonb values (customer_profiles): compress them with lz4
    instead of the default pglz for the rest of the model's transaction (`set local`): faster
    writes (docs/benchmarks.md, "Why the assignment SQL looks like this").
    A server built without lz4 keeps its default: the hook then does nothing.
-#}
{% macro shopseg_lz4_toast_compression() %}
    {%- if execute -%}
        {%- set supported = run_query(
            "select count(*) from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)"
        ).columns[0].values()[0] -%}
        {%- if supported | int > 0 -%}
            {{ return("set local default_toast_compression = 'lz4'") }}
        {%- endif -%}
    {%- endif -%}
    {{ return("select 1") }}
{% endmacro %}
