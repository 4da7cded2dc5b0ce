{#-
    Key types (docs/source_contract.md, "Key types"). Every id belongs to one key family, owned by
    one contract column; all the columns of a family (the owner and the foreign keys that reference
    it) are read as ONE type, resolved at compile time by shopseg_key_type(family):
      1. var('key_types') forces it ({customer: text, order: bigint, ...}; bigint | uuid | text);
      2. a ready source format declares it (the loaders land integer ids: bigint);
      3. the contract format and the mapping detect it from the owner column's source type:
         an integer column (smallint / integer / bigint) -> bigint, uuid -> uuid, anything
         else (text, numeric, float, ...) -> text; an absent optional owner table -> text.
    A foreign key value that cannot be read as its family's type ('abc' where customer ids are
    bigint) is read as null by shopseg_safe_cast and listed by assert_source_values_parse; the row
    is then rejected by the rule for a missing id (docs/bad_input.md). The text-only rules (trim,
    blank is null, '42.0' -> '42', max_key_length, ids differing only by case) apply where the
    family is text.
-#}

{#- family -> (owner table, owner column); a contract column of that name in any table references it. -#}
{% macro shopseg_key_families() %}
    {{ return({
        'customer': ('customers', 'customer_id'),
        'order': ('orders', 'order_id'),
        'product': ('products', 'product_id'),
        'order_line': ('order_lines', 'order_line_id'),
        'refund': ('refunds', 'refund_id'),
        'ticket': ('support_tickets', 'ticket_id'),
    }) }}
{% endmacro %}

{#- The key types each ready format declares (families it does not list are text). -#}
{% macro shopseg_format_key_types() %}
    {%- set shopify = {'customer': 'bigint', 'order': 'bigint', 'product': 'bigint', 'order_line': 'bigint',
                       'refund': 'bigint'} -%}
    {{ return({'shopify_fivetran': shopify, 'airbyte_shopify': shopify, 'zendesk_fivetran': {'ticket': 'bigint'}}) }}
{% endmacro %}

{#- The key family a contract column belongs to (owner or reference), none for a non-key column. -#}
{% macro shopseg_key_family_of(column_name) %}
    {%- for family, owner in shopseg_key_families().items() -%}
        {%- if owner[1] == column_name -%}{{ return(family) }}{%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}

{#- var('key_types'), checked: {family: bigint | uuid | text}. -#}
{% macro shopseg_forced_key_types() %}
    {%- set forced = var('key_types', {}) or {} -%}
    {%- set families = shopseg_key_families() -%}
    {%- if forced is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var('key_types') must map key families to types, e.g. {customer: text}. Families: "
            ~ (families.keys() | join(', ')) ~ "; types: bigint, uuid, text (docs/source_contract.md).") }}
    {%- endif -%}
    {%- set checked = {} -%}
    {%- for family, key_type in forced.items() -%}
        {%- if family not in families or (key_type | string | lower) not in ('bigint', 'uuid', 'text') -%}
            {{ exceptions.raise_compiler_error(
                "var('key_types') sets " ~ family ~ ": " ~ key_type ~ ". Families: " ~ (families.keys() | join(', '))
                ~ "; types: bigint, uuid, text (docs/source_contract.md).") }}
        {%- endif -%}
        {%- do checked.update({family: key_type | string | lower}) -%}
    {%- endfor -%}
    {{ return(checked) }}
{% endmacro %}

{#- The type a source column type is read as when it owns a key family. -#}
{% macro shopseg_key_type_of_source(source_type) %}
    {%- set family = shopseg_type_family(source_type) -%}
    {%- if family == 'integer' -%}
        {{ return('bigint') }}
    {%- elif (source_type or '') | lower == 'uuid' -%}
        {{ return('uuid') }}
    {%- endif -%}
    {{ return('text') }}
{% endmacro %}

{#- The SQL type of a key family (bigint | uuid | text); text at parse time. -#}
{% macro shopseg_key_type(family) %}
    {%- set families = shopseg_key_families() -%}
    {%- if family not in families -%}
        {{ exceptions.raise_compiler_error("shopseg_key_type: unknown key family '" ~ family ~ "'") }}
    {%- endif -%}
    {%- set forced = shopseg_forced_key_types() -%}
    {%- if family in forced -%}{{ return(forced[family]) }}{%- endif -%}
    {%- if not execute -%}{{ return('text') }}{%- endif -%}
    {%- set owner_table, owner_column = families[family] -%}
    {%- set fmt = shopseg_source_format(owner_table) -%}
    {%- if fmt != 'contract' -%}
        {{ return(shopseg_format_key_types().get(fmt, {}).get(family, 'text')) }}
    {%- endif -%}
    {%- set resolved = shopseg_source_select(owner_table) -%}
    {%- if not resolved.present -%}{{ return('text') }}{%- endif -%}
    {%- set source_type = shopseg_select_column_types(resolved.sql, [owner_column])[owner_column] -%}
    {{ return(shopseg_key_type_of_source(source_type)) }}
{% endmacro %}

{#- The contract columns of a table with every key column typed as its family. -#}
{% macro shopseg_contract_column_types(table_name) %}
    {%- set columns = {} -%}
    {%- for name, data_type in shopseg_source_contract()[table_name].columns.items() -%}
        {%- set family = shopseg_key_family_of(name) -%}
        {%- do columns.update({name: shopseg_key_type(family) if family else data_type}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{#- True when the family's ids are text (the text-only rules apply). -#}
{% macro shopseg_key_is_text(family) %}
    {{ return(shopseg_key_type(family) == 'text') }}
{% endmacro %}

{#-
    Pre-hook of the marts (dbt_project.yml): their YAML contracts declare key columns
    (customer_id) as text, the type of a text key family; a YAML file cannot call a macro, so at
    run time the contract's key columns are set to the build's key type before dbt checks the
    contract and creates the table (the check itself is unchanged: every other column and the
    key's name are still enforced). Renders no SQL.
-#}
{% macro shopseg_contract_key_types() %}
    {%- if execute and model is mapping and model.get('columns') -%}
        {%- for name, column in model['columns'].items() -%}
            {%- set family = shopseg_key_family_of(name) -%}
            {%- if family and column.get('data_type') -%}
                {%- do column.update({'data_type': shopseg_key_type(family)}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
