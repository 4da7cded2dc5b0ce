{#-
    select_source_columns(source_name, table_name)

    Selects the contract columns of a source table, so staging models work on any export that
    meets the source contract (docs/spec.md §3), renamed through the mapping vars or staged from a ready
    loader format (shopseg_source_select, docs/source_formats.md).
      * every column is read as its contract type (shopseg_source_contract) through
        shopseg_safe_cast (a value that cannot be read, e.g. 'abc' in a text `total`, becomes
        null instead of failing the build, and tests/assert_source_values_parse.sql reports it);
        a column whose type can never be read as the contract type stops the build;
      * an optional column that is missing is null; a missing required column stops the build
        with a message naming it;
      * an optional table that does not exist yields an empty relation with the same columns.
    source_name is the source the table belongs to (kept for readability of the models).
-#}
{% macro select_source_columns(source_name, table_name) %}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {%- if execute -%}{%- do shopseg_check_identifier_vars() -%}{%- endif -%}
    {%- set resolved = shopseg_source_select(table_name) -%}
    {%- if execute and resolved.present -%}
        {#- this table's own columns are checked before the key types are resolved (which reads
            the tables that own the keys it references), so its own mapping errors come first -#}
        {%- set types = shopseg_select_column_types(resolved.sql, contract.columns.keys() | list) -%}
        {%- for name, data_type in contract.columns.items() if not shopseg_key_family_of(name) -%}
            {%- do shopseg_check_castable(table_name, name, types[name], data_type, shopseg_mapping_source(resolved, name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns = shopseg_contract_column_types(table_name) -%}
    {%- if not execute %}
    select
        {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
    {%- elif not resolved.present %}
    select
        {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- else %}
    {%- for name, data_type in columns.items() if shopseg_key_family_of(name) %}
        {%- do shopseg_check_castable(table_name, name, types[name], data_type, shopseg_mapping_source(resolved, name)) %}
    {%- endfor %}
    select
        {%- for name, data_type in columns.items() %}
        {{ shopseg_safe_cast('source_rows.' ~ adapter.quote(name), types[name], data_type) }} as {{ adapter.quote(name) }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from ({{ resolved.sql }}) as source_rows
    {%- endif %}
{% endmacro %}

{#- What maps a contract column, for messages: the var, the format or the source column itself. -#}
{% macro shopseg_mapping_source(resolved, column_name) %}
    {%- if resolved.format != 'contract' -%}
        {{ return("source_format '" ~ resolved.format ~ "' (" ~ resolved.label ~ ")") }}
    {%- elif column_name in resolved.mapped -%}
        {{ return(shopseg_mapping_var_name(resolved.table, column_name) ~ " (on " ~ resolved.label ~ ")") }}
    {%- endif -%}
    {{ return("the source column of that name in " ~ resolved.label) }}
{% endmacro %}

{#-
    shopseg_unreadable_source_values(table_name): rows (source_table, key_column, key_value,
    column_name, raw_value, problem) for every value of the source table that is present but that
    select_source_columns reads as null (see shopseg_safe_cast). One scan of the table; nothing when
    the table is absent or every column already has a type that cannot fail.
-#}
{% macro shopseg_unreadable_source_values(table_name) %}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {%- set resolved = shopseg_source_select(table_name) -%}
    {%- set checks = [] -%}
    {%- set key_expr = 'cast(' ~ adapter.quote(contract.key) ~ ' as text)' -%}
    {%- if execute and resolved.present -%}
        {%- set types = shopseg_select_column_types(resolved.sql, contract.columns.keys() | list) -%}
        {%- for name, data_type in shopseg_contract_column_types(table_name).items() -%}
            {%- if shopseg_cast_can_fail(types[name], data_type) -%}
                {%- do checks.append({
                    'name': name,
                    'raw': adapter.quote(name),
                    'cast': shopseg_safe_cast(adapter.quote(name), types[name], data_type),
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
        {{ shopseg_sql_literal(resolved.label) }} as source_table,
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
        from ({{ resolved.sql }}) as source_rows
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
