{#-
    select_source_columns(source_name, table_name, columns=none, optional_columns=none, optional_table=none)

    Selects the contract columns of a source table, so staging models work on any export that
    meets the source contract (SPEC 3). With only source_name and table_name, the table's entry
    in shopseg_source_contract() is used; the other arguments override it.
      * `columns` maps each contract column to the type the project reads it as; every present
        column is read through shopseg_safe_cast (a value that cannot be read, e.g. 'abc' in a
        text `total`, becomes null instead of failing the build, and
        tests/assert_source_values_parse.sql reports it);
      * a column listed in `optional_columns` may be missing and is then null;
        a missing required column stops the build with a message naming it;
      * an optional table that does not exist yields an empty relation with the same columns.
    Column names are matched case-insensitively.
-#}
{% macro select_source_columns(source_name, table_name, columns=none, optional_columns=none, optional_table=none) %}
    {%- set contract = shopseg_source_contract().get(table_name, {}) -%}
    {%- set columns = columns if columns is not none else contract.get('columns', {}) -%}
    {%- set optional_columns = optional_columns if optional_columns is not none else contract.get('optional_columns', []) -%}
    {%- set optional_table = optional_table if optional_table is not none else contract.get('optional_table', false) -%}
    {%- if execute -%}{%- do shopseg_check_identifier_vars() -%}{%- endif -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- set existing_columns = {} -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
        {%- if existing is none and not optional_table -%}
            {{ exceptions.raise_compiler_error(
                "Required source table " ~ relation ~ " does not exist. Point var('raw_schema') or the "
                ~ "source's identifier at your export (see docs/source_contract.md).") }}
        {%- endif -%}
        {%- if existing is not none -%}
            {%- for col in adapter.get_columns_in_relation(existing) -%}
                {%- do existing_columns.update({col.name | lower: col}) -%}
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
        {%- if not execute %}
        {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- elif name | lower in existing_columns %}
        {%- set col = existing_columns[name | lower] %}
        {{ shopseg_safe_cast(adapter.quote(col.name), col.dtype, data_type) }} as {{ adapter.quote(name) }}
        {{- "," if not loop.last }}
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

{#-
    shopseg_unreadable_source_values(table_name): rows (source_table, key_column, key_value,
    column_name, raw_value, problem) for every value of the source table that is present but that
    select_source_columns reads as null (see shopseg_safe_cast). One scan of the table; nothing when
    the table is absent or every column already has a type that cannot fail.
-#}
{% macro shopseg_unreadable_source_values(table_name) %}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {%- set relation = source(contract.source, table_name) -%}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) if execute else none -%}
    {%- set checks = [] -%}
    {%- set key_expr = 'null' -%}
    {%- if existing is not none -%}
        {%- set existing_columns = {} -%}
        {%- for col in adapter.get_columns_in_relation(existing) -%}
            {%- do existing_columns.update({col.name | lower: col}) -%}
        {%- endfor -%}
        {%- if contract.key in existing_columns -%}
            {%- set key_expr = 'cast(' ~ adapter.quote(existing_columns[contract.key].name) ~ ' as text)' -%}
        {%- endif -%}
        {%- for name, data_type in contract.columns.items() -%}
            {%- if name in existing_columns and shopseg_cast_can_fail(existing_columns[name].dtype, data_type) -%}
                {%- set col = existing_columns[name] -%}
                {%- do checks.append({
                    'name': name,
                    'raw': adapter.quote(col.name),
                    'cast': shopseg_safe_cast(adapter.quote(col.name), col.dtype, data_type),
                    'problem': shopseg_unreadable_problem(data_type),
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if checks | length == 0 %}
    select
        cast(null as text) as source_table,
        cast(null as text) as key_column,
        cast(null as text) as key_value,
        cast(null as text) as column_name,
        cast(null as text) as raw_value,
        cast(null as text) as problem,
        cast(null as text) as message
    where false
    {%- else %}
    select
        {{ shopseg_sql_string(relation) }} as source_table,
        '{{ contract.key }}' as key_column,
        flagged.key_value,
        unreadable.column_name,
        unreadable.raw_value,
        unreadable.problem,
        '{{ table_name }}.' || unreadable.column_name || ': ' || unreadable.problem || ' -> read as null (rule'
        || ' unreadable_value; {{ contract.key }} ' || coalesce(left(flagged.key_value, 40), '(none)') || ', raw value '
        || quote_literal(left(unreadable.raw_value, 40)) || ')' as message
    from (
        select
            {{ key_expr }} as key_value,
            {%- for check in checks %}
            case when {{ check.raw }} is not null and ({{ check.cast }}) is null
                then cast({{ check.raw }} as text) end as {{ adapter.quote('bad_' ~ check.name) }}
            {{- "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        where
            {%- for check in checks %}
            ({{ check.raw }} is not null and ({{ check.cast }}) is null){{ " or" if not loop.last }}
            {%- endfor %}
    ) as flagged
    cross join lateral (
        values
        {%- for check in checks %}
        ('{{ check.name }}', flagged.{{ adapter.quote('bad_' ~ check.name) }}, '{{ check.problem }}')
        {{- "," if not loop.last }}
        {%- endfor %}
    ) as unreadable (column_name, raw_value, problem)
    where unreadable.raw_value is not null
    {%- endif %}
{% endmacro %}
