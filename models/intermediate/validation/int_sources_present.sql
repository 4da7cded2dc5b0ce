{#-
    Which contract tables the build reads and how many rows each staged, one row per contract
    table (docs/source_formats.md): the source format, the relation it came from, whether it
    exists (an optional table may be absent: customers + orders is the minimum export), its
    staged row count and the rows the format's rules or var('source_filters') left out (Fivetran
    soft deletes, test orders and their lines and refunds, ...), so nothing is dropped unseen.
    An axis whose source has no rows has no signal; axis requirements use `row_count > 0`
    rather than re-inspecting the schemas.
-#}
{%- set staged = {
    'customers': 'stg_shop__customers',
    'products': 'stg_shop__products',
    'orders': 'stg_shop__orders',
    'order_lines': 'stg_shop__order_lines',
    'refunds': 'stg_shop__refunds',
    'support_tickets': 'stg_helpdesk__support_tickets',
} %}
{%- set resolved = {} %}
{%- for table_name in staged %}
    {%- do resolved.update({table_name: shopseg_source_select(table_name)}) %}
{%- endfor %}

with
{%- for table_name, model_name in staged.items() %}
    {{ table_name }}_rows as (
        select count(*) as row_count from {{ ref(model_name) }}
    ),
{%- endfor %}

sources as (
    {%- for table_name in staged %}
        select
            {{ shopseg_sql_literal(table_name) }} as source_table,
            {{ shopseg_sql_literal(resolved[table_name].format) }} as source_format,
            {{ shopseg_sql_literal(resolved[table_name].label) }} as source_relation,
            {{ 'true' if resolved[table_name].present else 'false' }} as is_present,
            row_count,
            {%- if resolved[table_name].excluded_sql %}
                ({{ resolved[table_name].excluded_sql }}) as excluded_rows
            {%- else %}
                cast(0 as bigint) as excluded_rows
            {%- endif %}
        from {{ table_name }}_rows
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from sources
