{#-
    Helpers the ready-made formats (shopify_fivetran, zendesk_fivetran, airbyte_shopify) share: which loader
    tables and columns exist, Fivetran's soft deletes, and naive UTC timestamps.
-#}

{#-
    {'relation', 'exists', 'columns': {lower name: Column}} of a loader table declared in the
    sources YAML. source() is called whether or not the model executes, so lineage is recorded.
-#}
{% macro shopseg_loader_table(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- set info = {'relation': relation, 'exists': false, 'columns': {}} -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
        {%- if existing is not none -%}
            {%- do info.update({'exists': true}) -%}
            {%- for col in adapter.get_columns_in_relation(existing) -%}
                {%- do info.columns.update({col.name | lower: col}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(info) }}
{% endmacro %}

{#- Stops when a loader table a format needs is missing (or holds another format's tables). -#}
{% macro shopseg_require_loader_table(info, fmt, var_name, others) %}
    {%- if execute and not info.exists -%}
        {%- do shopseg_check_format_shape(info.relation.schema, info.relation.identifier, fmt, others, var_name) -%}
        {{ exceptions.raise_compiler_error(
            "source_format '" ~ fmt ~ "' reads " ~ shopseg_relation_label(info.relation) ~ ", which does not exist. Point var('"
            ~ var_name ~ "') at the schema the loader writes to (docs/source_formats.md).") }}
    {%- endif -%}
{% endmacro %}

{#- Stops when a column the format needs is missing from a loader table. -#}
{% macro shopseg_require_loader_columns(info, fmt, names) %}
    {%- if execute and info.exists -%}
        {%- for name in names -%}
            {%- if name not in info.columns -%}
                {{ exceptions.raise_compiler_error(
                    "source_format '" ~ fmt ~ "' needs column " ~ name ~ " of " ~ shopseg_relation_label(info.relation)
                    ~ ", which is missing. Its columns: " ~ (info.columns.keys() | sort | join(', ')) ~ ".") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- alias.column when the loader table has it, else `fallback` (SQL). -#}
{% macro shopseg_loader_column(alias, info, name, fallback='null') %}
    {%- if name in info.columns -%}
        {{- return(alias ~ '.' ~ adapter.quote(info.columns[name].name)) -}}
    {%- endif -%}
    {{- return(fallback) -}}
{% endmacro %}

{#-
    A loader timestamp as timestamptz: Fivetran writes UTC; a `timestamp without time zone`
    column is read as UTC whatever the session's time zone. Other types are left to the safe cast.
-#}
{% macro shopseg_loader_utc(alias, info, name) %}
    {%- set expr = shopseg_loader_column(alias, info, name) -%}
    {%- if name in info.columns and (info.columns[name].dtype | lower).startswith('timestamp without') -%}
        {{- return('(' ~ expr ~ " at time zone 'UTC')") -}}
    {%- endif -%}
    {{- return(expr) -}}
{% endmacro %}

{#- SQL condition: the row is not soft-deleted by Fivetran (true when the table has no _fivetran_deleted). -#}
{% macro shopseg_fivetran_live(alias, info) %}
    {%- if '_fivetran_deleted' in info.columns -%}
        {{- return('not coalesce(' ~ alias ~ '._fivetran_deleted, false)') -}}
    {%- endif -%}
    {{- return('true') -}}
{% endmacro %}

{#- The result shopseg_source_select returns for a loader format. -#}
{% macro shopseg_loader_result(table_name, fmt, label, sql, present=true, excluded=none) %}
    {%- set contract = shopseg_source_contract()[table_name] -%}
    {%- set mapped = {} -%}
    {%- for name in contract.columns -%}{%- do mapped.update({name: true}) -%}{%- endfor -%}
    {{ return({
        'present': present and execute, 'sql': sql if (present and execute) else none, 'label': label,
        'format': fmt, 'table': table_name, 'key': contract.key, 'mapped': mapped,
        'excluded_sql': excluded if (present and execute) else none,
    }) }}
{% endmacro %}

{#- A relation as messages and audits name it: schema.table, without the database. -#}
{% macro shopseg_relation_label(relation) %}
    {{- return(relation.include(database=false) | string) -}}
{% endmacro %}

{#- A query counting the rows of `relation` (as `alias`) that the condition `kept` leaves out. -#}
{% macro shopseg_excluded_count(relation, alias, kept) %}
    {{- return('select count(*) from ' ~ relation ~ ' as ' ~ alias ~ ' where not coalesce((' ~ kept ~ '), false)') -}}
{% endmacro %}
