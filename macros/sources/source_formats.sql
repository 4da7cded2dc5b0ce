{#-
    Source formats (docs/source_formats.md). var('source_format') names how the shop and the
    helpdesk exports are shaped: `contract` (the default: our table and column names, optionally
    renamed through var('source_tables') / var('source_columns')) or a ready-made loader format.
    It is one name or a list (YAML list or comma-separated text) with at most one format per
    source; a source no listed format covers is read as the contract.

    shopseg_source_select(table_name) resolves one contract table to a select that yields the
    contract's raw columns (source types, contract names); select_source_columns() and the
    unreadable-values audit read every source through it.
-#}

{#- Which sources each format provides, and the macro that stages a contract table from it. -#}
{% macro shopseg_known_source_formats() %}
    {{ return({
        'contract': ['shop', 'helpdesk'],
        'shopify_fivetran': ['shop'],
        'zendesk_fivetran': ['helpdesk'],
        'airbyte_shopify': ['shop'],
    }) }}
{% endmacro %}

{#- {'shop': format, 'helpdesk': format} from var('source_format'); stops on unknown or mixed formats. -#}
{% macro shopseg_source_formats() %}
    {%- set raw_value = var('source_format', 'contract') -%}
    {%- if raw_value is none -%}
        {%- set names = [] -%}
    {%- elif raw_value is string -%}
        {%- set names = [] -%}
        {%- for part in raw_value.split(',') -%}
            {%- if part | trim -%}{%- do names.append(part | trim | lower) -%}{%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {%- set names = [] -%}
        {%- for part in raw_value -%}{%- do names.append(part | string | trim | lower) -%}{%- endfor -%}
    {%- endif -%}
    {%- set known = shopseg_known_source_formats() -%}
    {%- set chosen = {} -%}
    {%- for name in names -%}
        {%- if name not in known -%}
            {{ exceptions.raise_compiler_error(
                "var('source_format') names an unknown format '" ~ name ~ "'. Known formats: "
                ~ (known.keys() | sort | join(', ')) ~ " (docs/source_formats.md).") }}
        {%- endif -%}
        {%- for source_name in known[name] -%}
            {%- if source_name in chosen and chosen[source_name] != name -%}
                {{ exceptions.raise_compiler_error(
                    "var('source_format') mixes two formats for the " ~ source_name ~ " tables: '"
                    ~ chosen[source_name] ~ "' and '" ~ name ~ "'. Name one format per source, e.g. "
                    ~ "[shopify_fivetran, zendesk_fivetran] (contract is implied for a source no format covers).") }}
            {%- endif -%}
            {%- do chosen.update({source_name: name}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({
        'shop': chosen.get('shop', 'contract'),
        'helpdesk': chosen.get('helpdesk', 'contract'),
    }) }}
{% endmacro %}

{#- The format of the source that holds a contract table. -#}
{% macro shopseg_source_format(table_name) %}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {{ return(shopseg_source_formats()[contract.source]) }}
{% endmacro %}

{#- The relation `identifier` in the schema of `source_name` (none when it does not exist). -#}
{% macro shopseg_existing_relation(schema, identifier) %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(target.database, schema, identifier)) }}
{% endmacro %}

{#-
    {'present', 'sql', 'label', 'format', 'key', 'mapped'} for a contract table:
      sql    a select of the contract columns (names as in shopseg_source_contract, source types),
             none when the table is absent (an optional table) or at parse time;
      label  the source relation (or the loader tables) named in messages and audits;
      mapped {contract column: True} for the columns a var or a format maps.
-#}
{% macro shopseg_source_select(table_name) %}
    {%- set memo = shopseg_run_cache('source_select') if execute else {} -%}
    {%- if table_name not in memo -%}
        {%- do memo.update({table_name: shopseg_source_select_uncached(table_name)}) -%}
    {%- endif -%}
    {{ return(memo[table_name]) }}
{% endmacro %}

{#- shopseg_source_select without the per-invocation memo. -#}
{% macro shopseg_source_select_uncached(table_name) %}
    {%- set fmt = shopseg_source_format(table_name) -%}
    {%- if shopseg_source_skipped(table_name) -%}
        {{ return({'present': false, 'sql': none, 'label': 'skipped by var(skip_sources)', 'format': fmt,
                   'table': table_name, 'key': shopseg_source_contract()[table_name].key, 'mapped': {},
                   'excluded_sql': none}) }}
    {%- endif -%}
    {%- if fmt == 'contract' -%}
        {{ return(shopseg_contract_source_select(table_name)) }}
    {%- else -%}
        {%- do shopseg_check_no_mapping(table_name, fmt) -%}
        {%- if fmt == 'shopify_fivetran' -%}
            {{ return(shopseg_format_shopify_fivetran(table_name)) }}
        {%- elif fmt == 'zendesk_fivetran' -%}
            {{ return(shopseg_format_zendesk_fivetran(table_name)) }}
        {%- elif fmt == 'airbyte_shopify' -%}
            {{ return(shopseg_format_airbyte_shopify(table_name)) }}
        {%- else -%}
            {{ exceptions.raise_compiler_error("source_format '" ~ fmt ~ "' does not provide " ~ table_name) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- Mapping vars apply to the contract format only: a ready format with a mapping would be two formats mixed. -#}
{% macro shopseg_check_no_mapping(table_name, fmt) %}
    {#- at run time only, so the model that reads the table names the problem -#}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for var_name in ['source_tables', 'source_columns', 'source_filters'] -%}
        {%- if table_name in (var(var_name, {}) or {}) -%}
            {{ exceptions.raise_compiler_error(
                "var('" ~ var_name ~ "') maps the contract table " ~ table_name ~ ", but its source is read with "
                ~ "source_format '" ~ fmt ~ "'. A mapping applies to the contract format only: drop the mapping "
                ~ "or the ready format (docs/source_formats.md).") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

{#-
    Stops the build when the configured schema holds another format's tables instead of the
    expected ones (e.g. source_format shopify_fivetran pointed at a schema with our `orders`).
    `expected` is the table the chosen format needs; `others` maps a format to a table only it has.
-#}
{% macro shopseg_check_format_shape(schema, expected, fmt, others, var_name) %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for other_format, other_table in others.items() -%}
        {%- if shopseg_existing_relation(schema, other_table) is not none -%}
            {{ exceptions.raise_compiler_error(
                "Schema " ~ schema ~ " (var('" ~ var_name ~ "')) has no table " ~ expected ~ " that source_format '"
                ~ fmt ~ "' reads, but it has " ~ other_table ~ ", a table of the '" ~ other_format ~ "' format. "
                ~ "Two formats mixed: set source_format (or the schema var) to match the tables "
                ~ "(docs/source_formats.md).") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

{#-
    Types (pg_typeof) of the columns of a select, in one round trip that reads no rows:
    {column: type name}. A column whose expression does not compile fails here.
-#}
{% macro shopseg_select_column_types(select_sql, column_names) %}
    {%- if not execute -%}{{ return({}) }}{%- endif -%}
    {%- set memo = shopseg_run_cache('select_column_types') -%}
    {%- set memo_key = select_sql ~ '\n' ~ (column_names | join(',')) -%}
    {%- if memo_key in memo -%}{{ return(memo[memo_key]) }}{%- endif -%}
    {%- set probe -%}
        select
            {%- for name in column_names %}
            pg_typeof(probed.{{ adapter.quote(name) }})::text as {{ adapter.quote(name) }}{{ "," if not loop.last }}
            {%- endfor %}
        from (select 1 as one) as anchor
        left join ({{ select_sql }} limit 0) as probed on true
    {%- endset -%}
    {%- set row = run_query(probe).rows[0] -%}
    {%- set types = {} -%}
    {%- for name in column_names -%}
        {%- do types.update({name: row[loop.index0]}) -%}
    {%- endfor -%}
    {%- do memo.update({memo_key: types}) -%}
    {{ return(types) }}
{% endmacro %}

{#-
    Stops when a mapped column's source type can never be read as the contract type (e.g. an
    integer mapped to a timestamp): every value would become null. `where` names the var or format.
-#}
{% macro shopseg_check_castable(table_name, column_name, source_type, target_type, where) %}
    {%- set family = shopseg_type_family(source_type) -%}
    {%- set target = target_type | lower -%}
    {%- set impossible = {
        'numeric': ['timestamp', 'boolean'],
        'timestamptz': ['numeric', 'integer', 'boolean'],
        'boolean': ['timestamp', 'numeric'],
        'bigint': ['timestamp', 'boolean'],
        'uuid': ['timestamp', 'boolean', 'numeric', 'integer'],
    } -%}
    {%- if family in impossible.get(target, []) -%}
        {{ exceptions.raise_compiler_error(
            "Contract column " ~ table_name ~ "." ~ column_name ~ " (read as " ~ target ~ ") is mapped by "
            ~ where ~ " to a value of type " ~ source_type ~ ", which cannot be read as " ~ target ~ ". "
            ~ "Map an expression that converts it (e.g. to_timestamp(epoch_seconds) for a timestamp, "
            ~ "amount_cents / 100.0 for an amount; docs/source_formats.md).") }}
    {%- endif -%}
{% endmacro %}

{#-
    var('skip_sources'): optional contract tables read as absent whatever exists (a table that is
    synced but not trusted, e.g. a stale refunds export). A required table cannot be skipped.
-#}
{% macro shopseg_source_skipped(table_name) %}
    {%- set skipped = var('skip_sources', []) or [] -%}
    {%- if skipped is string -%}{%- set skipped = skipped.split(',') | map('trim') | list -%}{%- endif -%}
    {%- set contract = shopseg_source_contract() -%}
    {%- for name in skipped -%}
        {%- if name not in contract -%}
            {{ exceptions.raise_compiler_error(
                "var('skip_sources') names '" ~ name ~ "', which is not a contract table. Optional tables: "
                ~ (shopseg_optional_tables() | join(', ')) ~ ".") }}
        {%- elif not contract[name].optional_table -%}
            {{ exceptions.raise_compiler_error(
                "var('skip_sources') names " ~ name ~ ", which is required (customers and orders are the "
                ~ "minimum export) and cannot be skipped.") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(table_name in skipped) }}
{% endmacro %}

{% macro shopseg_optional_tables() %}
    {%- set names = [] -%}
    {%- for name, spec in shopseg_source_contract().items() -%}
        {%- if spec.optional_table -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
