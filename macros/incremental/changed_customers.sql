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

{#- The first key column (customer_id, order_id, ...) of a relation a previous build wrote that is
    not of this build's key type (macros/sources/key_types.sql: the source's type changed, or var
    key_types did): {family, column, found, expected}, or none. -#}
{% macro shopseg_key_type_mismatch(relation) %}
    {%- if not execute or relation is none -%}{{ return(none) }}{%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set family = shopseg_key_family_of(column.name) -%}
        {%- if family -%}
            {%- set expected = shopseg_key_type(family) -%}
            {%- set found = column.data_type | lower -%}
            {%- set found = 'text' if found.startswith('character') else found -%}
            {%- if found != expected -%}
                {{ return({'family': family, 'column': column.name, 'found': found, 'expected': expected}) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}

{#- A table of the previous build with other key types would mix two types in one table: stop with
    the fix, unless this is a --full-refresh (which rewrites it). -#}
{% macro shopseg_check_key_type_unchanged(relation) %}
    {%- if flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- set mismatch = shopseg_key_type_mismatch(relation) -%}
    {%- if mismatch -%}
        {{ exceptions.raise_compiler_error(
            "The " ~ mismatch.family ~ " key type changed since the previous build: " ~ relation ~ "." ~ mismatch.column
            ~ " is " ~ mismatch.found ~ ", this build reads " ~ mismatch.family ~ " ids as " ~ mismatch.expected
            ~ " (docs/source_contract.md, Key types). Rebuild once with `dbt build --full-refresh` (features "
            ~ "and profiles are recomputed), or keep the old type with --vars '{key_types: {" ~ mismatch.family
            ~ ": " ~ mismatch.found ~ "}}'.") }}
    {%- endif -%}
{% endmacro %}

{#- Pre-hook of the snapshot (history is never rebuilt, not even by --full-refresh): a history
    written with another customer key type stops the snapshot with the three ways out. -#}
{% macro shopseg_check_snapshot_key_type() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set mismatch = shopseg_key_type_mismatch(existing) -%}
    {%- if mismatch -%}
        {{ exceptions.raise_compiler_error(
            "The segment history " ~ existing ~ " keeps " ~ mismatch.column ~ " as " ~ mismatch.found ~ ", this build reads "
            ~ mismatch.family ~ " ids as " ~ mismatch.expected ~ " (docs/source_contract.md, Key types). Keep the "
            ~ "history by converting it once: alter table " ~ existing ~ " alter column " ~ mismatch.column ~ " type "
            ~ mismatch.expected ~ " using " ~ mismatch.column ~ "::" ~ mismatch.expected ~ "; or start a new history "
            ~ "(dbt run-operation shopseg_reset_centroid_history); or keep the old type with --vars '{key_types: {"
            ~ mismatch.family ~ ": " ~ mismatch.found ~ "}}'.") }}
    {%- endif -%}
    {{ return('') }}
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

{#- Pre-hook: delete the scoped customers' rows before the incremental insert. Renders nothing on a
    full build (dbt sends no statement for an empty hook). -#}
{% macro shopseg_delete_scope(scope_model, column='customer_id') %}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where {{ column }} in (select customer_id from {{ ref(scope_model) }})
    {%- endif -%}
{% endmacro %}
