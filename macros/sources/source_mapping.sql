{#-
    The contract format, read through the mapping vars (docs/source_formats.md):

        source_tables:   {contract table: your table}            e.g. {orders: shop_orders}
        source_columns:  {contract table: {contract column: your column or an SQL expression}}
                         e.g. {orders: {order_id: id, total: "total_cents / 100.0"}}
        source_filters:  {contract table: SQL condition on your table}: only the rows it keeps
                         are read, e.g. {orders: "not test"} (loader test rows, soft deletes)

    A value that is a plain name (letters, digits, _) is a column of the mapped table (matched
    case-insensitively); anything else is an SQL expression over that table's columns. Unmapped
    contract columns are read from the column of the same name, as without a mapping. Every
    message names the contract column and the var that maps it.
-#}

{#- A text as an SQL string literal (quotes doubled). -#}
{% macro shopseg_sql_literal(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{% macro shopseg_mapping_var_name(table_name, column_name=none) %}
    {%- if column_name is none -%}
        {{ return("var('source_tables')." ~ table_name) }}
    {%- endif -%}
    {{ return("var('source_columns')." ~ table_name ~ "." ~ column_name) }}
{% endmacro %}

{#- Stops on mapping keys that are not contract tables or columns (a typo would map nothing). -#}
{% macro shopseg_check_mapping_keys() %}
    {%- set contract = shopseg_source_contract() -%}
    {%- set tables = var('source_tables', {}) or {} -%}
    {%- set columns = var('source_columns', {}) or {} -%}
    {%- set filters = var('source_filters', {}) or {} -%}
    {%- if tables is not mapping or columns is not mapping or filters is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var('source_tables') and var('source_columns') must be mappings, e.g. "
            ~ "{source_tables: {orders: shop_orders}, source_columns: {orders: {total: amount}}}.") }}
    {%- endif -%}
    {%- for table_name in (tables.keys() | list) + (columns.keys() | list) + (filters.keys() | list) -%}
        {%- if table_name not in contract -%}
            {{ exceptions.raise_compiler_error(
                "A mapping var names '" ~ table_name ~ "', which is not a contract table. Contract tables: "
                ~ (contract.keys() | join(', ')) ~ " (docs/source_contract.md).") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for table_name, table_columns in columns.items() -%}
        {%- if table_columns is not mapping -%}
            {{ exceptions.raise_compiler_error(
                "var('source_columns')." ~ table_name ~ " must map contract columns to your columns or expressions, "
                ~ "e.g. {order_id: id}.") }}
        {%- endif -%}
        {%- for column_name in table_columns -%}
            {#- customers.email is read only to link helpdesk requesters (never staged) -#}
            {%- if column_name not in contract[table_name].columns
                  and not (table_name == 'customers' and column_name == 'email') -%}
                {{ exceptions.raise_compiler_error(
                    shopseg_mapping_var_name(table_name, column_name) ~ " maps '" ~ column_name
                    ~ "', which is not a column of the contract table " ~ table_name ~ ". Its columns: "
                    ~ (contract[table_name].columns.keys() | join(', ')) ~ ".") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}

{#- The relation a contract table is read from: its source, renamed by var('source_tables'). -#}
{% macro shopseg_contract_relation(table_name) %}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {%- set relation = source(contract.source, table_name) -%}
    {%- set mapped = (var('source_tables', {}) or {}).get(table_name) -%}
    {%- if mapped -%}
        {%- set parts = (mapped | string).split('.') -%}
        {%- if parts | length == 2 -%}
            {%- set relation = relation.incorporate(path={'schema': parts[0], 'identifier': parts[1]}) -%}
        {%- else -%}
            {%- set relation = relation.incorporate(path={'identifier': mapped | string}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}

{% macro shopseg_contract_source_select(table_name) %}
    {%- do shopseg_check_mapping_keys() -%}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {%- set relation = shopseg_contract_relation(table_name) -%}
    {%- set table_mapped = table_name in (var('source_tables', {}) or {}) -%}
    {%- set column_map = (var('source_columns', {}) or {}).get(table_name, {}) -%}
    {%- set result = {'present': false, 'sql': none, 'label': shopseg_relation_label(relation), 'format': 'contract', 'table': table_name, 'excluded_sql': none,
                      'key': contract.key, 'mapped': {}} -%}
    {%- if not execute -%}{{ return(result) }}{%- endif -%}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {%- if existing is none -%}
        {%- if table_mapped -%}
            {{ exceptions.raise_compiler_error(
                shopseg_mapping_var_name(table_name) ~ " maps the contract table " ~ table_name ~ " to "
                ~ shopseg_relation_label(relation) ~ ", which does not exist.") }}
        {%- endif -%}
        {%- do shopseg_check_contract_shape(table_name, relation) -%}
        {%- if not shopseg_table_is_optional(table_name) -%}
            {{ exceptions.raise_compiler_error(
                "Required source table " ~ shopseg_relation_label(relation) ~ " does not exist. Point var('raw_schema') at your export, "
                ~ "map your table with var('source_tables') or use a ready source_format (docs/source_formats.md).") }}
        {%- endif -%}
        {{ return(result) }}
    {%- endif -%}
    {%- set existing_columns = {} -%}
    {%- for col in adapter.get_columns_in_relation(existing) -%}
        {%- do existing_columns.update({col.name | lower: col}) -%}
    {%- endfor -%}
    {%- set selects = [] -%}
    {%- set expressions = {} -%}
    {%- for name, data_type in contract.columns.items() -%}
        {%- set mapped_to = column_map.get(name) -%}
        {%- if mapped_to is none -%}
            {%- if name | lower in existing_columns -%}
                {%- do selects.append(adapter.quote(existing_columns[name | lower].name) ~ ' as ' ~ adapter.quote(name)) -%}
            {%- elif name in contract.optional_columns -%}
                {%- do selects.append('cast(null as ' ~ data_type ~ ') as ' ~ adapter.quote(name)) -%}
            {%- else -%}
                {%- set airbyte = '_airbyte_raw_id' in existing_columns or '_airbyte_ab_id' in existing_columns -%}
                {{ exceptions.raise_compiler_error(
                    "Source table " ~ shopseg_relation_label(relation) ~ " has no column " ~ name ~ ", which the source contract requires. "
                    ~ ("It has Airbyte's _airbyte_* columns: a stream of the 'airbyte_shopify' format? Two formats mixed: "
                       ~ "set source_format: airbyte_shopify, or map yours with " if airbyte else "Map yours with ")
                    ~ shopseg_mapping_var_name(table_name, name) ~ " (docs/source_formats.md).") }}
            {%- endif -%}
        {%- elif modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', mapped_to | string) -%}
            {%- if (mapped_to | lower) not in existing_columns -%}
                {{ exceptions.raise_compiler_error(
                    shopseg_mapping_var_name(table_name, name) ~ " maps contract column " ~ table_name ~ "." ~ name
                    ~ " to column '" ~ mapped_to ~ "', which " ~ shopseg_relation_label(relation) ~ " does not have. Its columns: "
                    ~ (existing_columns.keys() | sort | join(', ')) ~ ".") }}
            {%- endif -%}
            {%- do selects.append(adapter.quote(existing_columns[mapped_to | lower].name) ~ ' as ' ~ adapter.quote(name)) -%}
            {%- do result.mapped.update({name: true}) -%}
        {%- else -%}
            {%- do expressions.update({name: mapped_to | string}) -%}
            {%- do selects.append('(' ~ mapped_to ~ ') as ' ~ adapter.quote(name)) -%}
            {%- do result.mapped.update({name: true}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set row_filter = (var('source_filters', {}) or {}).get(table_name) -%}
    {%- do shopseg_check_mapping_expressions(table_name, relation, expressions, row_filter) -%}
    {%- do result.update({
        'present': true,
        'sql': 'select ' ~ (selects | join(', ')) ~ ' from ' ~ relation
               ~ ((' where (' ~ row_filter ~ ')') if row_filter else ''),
        'excluded_sql': shopseg_excluded_count(relation, 'source_table', row_filter) if row_filter else none,
    }) -%}
    {{ return(result) }}
{% endmacro %}

{#- Whether the contract lets the table be absent (shopseg_source_contract). -#}
{% macro shopseg_table_is_optional(table_name) %}
    {{ return(shopseg_source_contract()[table_name].optional_table) }}
{% endmacro %}

{#-
    Each mapped expression is tried alone (no rows read) inside a DO block, so a wrong column or
    a syntax error stops the build with a message that names the contract column and the var.
-#}
{% macro shopseg_check_mapping_expressions(table_name, relation, expressions, row_filter=none) %}
    {%- if not execute or (expressions | length == 0 and not row_filter) -%}{{ return(none) }}{%- endif -%}
    {%- set checks -%}
        do $shopseg_check$
        begin
        {%- for name, expression in expressions.items() %}
            begin
                execute {{ shopseg_sql_literal('select (' ~ expression ~ ') from ' ~ relation ~ ' limit 0') }};
            exception when others then
                raise exception '%', {{ shopseg_sql_literal(
                    shopseg_mapping_var_name(table_name, name) ~ " maps contract column " ~ table_name ~ "." ~ name
                    ~ " to the expression " ~ expression ~ ", which fails on " ~ shopseg_relation_label(relation) ~ ": ") }} || sqlerrm;
            end;
        {%- endfor %}
        {%- if row_filter %}
            begin
                execute {{ shopseg_sql_literal('select 1 from ' ~ relation ~ ' where (' ~ row_filter ~ ') limit 0') }};
            exception when others then
                raise exception '%', {{ shopseg_sql_literal(
                    shopseg_mapping_var_name(table_name, '__filter__') ~ " filters the contract table " ~ table_name
                    ~ " with the condition " ~ row_filter ~ ", which fails on " ~ shopseg_relation_label(relation) ~ ": ") }} || sqlerrm;
            end;
        {%- endif %}
        end
        $shopseg_check$
    {%- endset -%}
    {%- do run_query(checks) -%}
{% endmacro %}

{#-
    The contract table is absent: when the schema holds a loader format's table for it instead,
    say so (two formats mixed) rather than reading the table as empty or missing.
-#}
{% macro shopseg_check_contract_shape(table_name, relation) %}
    {%- set loader_tables = {
        'customers': {'shopify_fivetran': 'customer'},
        'orders': {'shopify_fivetran': 'order'},
        'products': {'shopify_fivetran': 'product'},
        'order_lines': {'shopify_fivetran': 'order_line'},
        'refunds': {'shopify_fivetran': 'refund', 'airbyte_shopify': 'order_refunds'},
        'support_tickets': {'zendesk_fivetran': 'ticket'},
    } -%}
    {%- set var_name = 'raw_schema' if shopseg_source_contract()[table_name].source == 'shop' else 'helpdesk_schema' -%}
    {%- do shopseg_check_format_shape(relation.schema, relation.identifier, 'contract',
                                      loader_tables.get(table_name, {}), var_name) -%}
{% endmacro %}
