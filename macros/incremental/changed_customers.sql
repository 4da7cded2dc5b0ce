{#-
    Incremental builds (docs/lifecycle.md). Two scopes:
      * int_customers_changed: customers whose SOURCE rows changed since the previous build
        (feature models re-compute only them);
      * int_customers_to_score: customers whose scoring inputs changed (features, centroid version,
        LTV tier) since their profile was written (assignment models re-score only them).
    Incremental models delete the scoped customers' rows in a pre-hook, then insert the fresh
    rows, so customers who lost their data disappear too.
-#}

{#- A table as the PREVIOUS build left it: source(source_name, table_name) of
    models/_previous_build__sources.yml (declared as a source, so dbt docs show the dependency;
    a ref() would be a cycle, as the table is downstream of the caller). None when it does not
    exist yet or lacks `required_column` (a table from an older layout). -#}
{% macro shopseg_previous_relation(source_name, table_name, required_column) %}
    {%- set declared = source(source_name, table_name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set relation = adapter.get_relation(
        database=declared.database, schema=declared.schema, identifier=declared.identifier) -%}
    {%- if relation is not none and required_column not in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}

{#- A where-clause condition restricting `column` to the scope on incremental runs. -#}
{% macro shopseg_in_scope(column, scope_model) %}
    {%- set scope = ref(scope_model) -%}
    {%- if is_incremental() -%}
        {{ column }} in (select customer_id from {{ scope }})
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}

{#- Pre-hook: delete the scoped customers' rows before the incremental insert. -#}
{% macro shopseg_delete_scope(scope_model, column='customer_id') %}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where {{ column }} in (select customer_id from {{ ref(scope_model) }})
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
