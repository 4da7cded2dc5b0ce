{#-
    select_source_columns(source_name, table_name, columns, optional_table=false)

    Selects the contract columns of a source table, so staging models work on any export that
    meets the source contract (SPEC 3):
      * `columns` maps each contract column to the SQL type it gets when it is ABSENT;
        a column listed in `optional_columns` may be missing and is then null;
        a missing required column stops the build with a message naming it;
      * an optional table that does not exist yields an empty relation with the same columns.
    Casting to the project's types happens in the staging model itself.
-#}
{% macro select_source_columns(source_name, table_name, columns, optional_columns=[], optional_table=false) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- set existing_columns = [] -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
        {%- if existing is none and not optional_table -%}
            {{ exceptions.raise_compiler_error(
                "Required source table " ~ relation ~ " does not exist. Point var('raw_schema') or the "
                ~ "source's identifier at your export (see docs/source_contract.md).") }}
        {%- endif -%}
        {%- if existing is not none -%}
            {%- for col in adapter.get_columns_in_relation(existing) -%}
                {%- do existing_columns.append(col.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if execute and existing is none %}
    select
        {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- else %}
    select
        {%- for name, data_type in columns.items() %}
        {%- if not execute or name | lower in existing_columns %}
        {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- elif name in optional_columns %}
        cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- else %}
        {{ exceptions.raise_compiler_error(
            "Source table " ~ relation ~ " has no column " ~ name ~ ", which the source contract requires.") }}
        {%- endif %}
        {%- endfor %}
    from {{ relation }}
    {%- endif %}
{% endmacro %}
