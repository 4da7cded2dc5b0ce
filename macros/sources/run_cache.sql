{#-
    A dict that lives as long as one dbt invocation, shared by every node of it: for compile-time
    facts read from the database that cannot change while the invocation runs (the columns and
    types of the source tables: nothing in a build writes to them). shopseg_source_select and
    shopseg_select_column_types memoize through it (and so shopseg_key_type, which calls them), so
    a build reads each source table's shape once instead of once per column that asks (measured:
    docs/decisions.md "Issue 19: fewer statements per dbt node"); shopseg_axis_clusters reads the
    label catalog once.

    It is stored in dbt's `graph` context variable (the manifest's flat graph): dbt builds that
    dict once per invocation, at parse or when the manifest is loaded, and hands the same dict to
    every node, so the memo starts empty in each `dbt` command and never outlives it. Concurrent
    nodes may both compute a missing entry; they compute the same value. Returns a fresh, unshared
    dict when there is no graph (nothing is memoized then).
-#}
{% macro shopseg_run_cache(name) %}
    {%- if graph is not mapping -%}{{ return({}) }}{%- endif -%}
    {%- set caches = graph.setdefault('shopseg_run_cache', {}) -%}
    {{ return(caches.setdefault(name, {})) }}
{% endmacro %}
