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
    {%- do shopseg_check_key_type_unchanged(relation) -%}
    {{ return(relation) }}
{% endmacro %}

{#- A table the previous build wrote whose customer_id is not of this build's customer key type
    (macros/sources/key_types.sql: the source's type changed, or var key_types did) would mix two
    types in one table: stop with the fix, unless this is a --full-refresh (which rewrites it). -#}
{% macro shopseg_check_key_type_unchanged(relation) %}
    {%- if not execute or relation is none or flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- set expected = shopseg_key_type('customer') -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name == 'customer_id' -%}
            {%- set found = column.data_type | lower -%}
            {%- set found = 'text' if found.startswith('character') else found -%}
            {%- if found != expected -%}
                {{ exceptions.raise_compiler_error(
                    "The customer key type changed since the previous build: " ~ relation ~ ".customer_id is "
                    ~ found ~ ", this build reads customer ids as " ~ expected ~ " (docs/source_contract.md, "
                    ~ "Key types). Rebuild everything once with `dbt build --full-refresh` (the previous "
                    ~ "build's features and profiles are recomputed), or keep the old type with "
                    ~ "--vars '{key_types: {customer: " ~ found ~ "}}'.") }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

{#- A where-clause condition restricting `column` to the scope on incremental runs. -#}
{% macro shopseg_in_scope(column, scope_model) %}
    {%- set scope = ref(scope_model) -%}
    {%- if is_incremental() -%}
        {%- do shopseg_check_key_type_unchanged(this) -%}
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
