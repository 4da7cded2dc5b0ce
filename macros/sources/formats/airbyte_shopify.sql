{#-
    source_format airbyte_shopify: the streams Airbyte's Shopify source lands (var('raw_schema');
    Destinations V2: one table per stream, nested objects and arrays as JSON), staged into the
    contract's shop tables. The mapping table and the rules are in docs/source_formats.md:
      * one row per id: the version Airbyte extracted last (append syncs keep every version);
        older versions are left out and counted;
      * deletion records (`is_deleted`, `deleted_at`, `_ab_cdc_deleted_at`) and `test` orders are
        left out, orders with their lines and refunds; products are kept when deleted (they still
        describe what was bought) and described by their last live version;
      * order lines are the elements of orders.line_items; refunds are the order_refunds stream,
        or the orders' nested `refunds` when that stream is not synced;
      * products and order_refunds are optional streams.
-#}

{% macro shopseg_format_airbyte_shopify(table_name) %}
    {%- if table_name == 'customers' -%}
        {{ return(shopseg_airbyte_shopify_customers()) }}
    {%- elif table_name == 'orders' -%}
        {{ return(shopseg_airbyte_shopify_orders()) }}
    {%- elif table_name == 'order_lines' -%}
        {{ return(shopseg_airbyte_shopify_order_lines()) }}
    {%- elif table_name == 'products' -%}
        {{ return(shopseg_airbyte_shopify_products()) }}
    {%- elif table_name == 'refunds' -%}
        {{ return(shopseg_airbyte_shopify_refunds()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("source_format 'airbyte_shopify' has no table for " ~ table_name) }}
{% endmacro %}

{#-
    A required stream with its columns checked. customers and orders have the contract's table
    names: a table without Airbyte's `id` but with the contract key is the contract format.
-#}
{% macro shopseg_airbyte_shopify_stream(name, columns, contract_key=none) %}
    {%- set info = shopseg_loader_table('airbyte_shopify', name) -%}
    {%- do shopseg_require_loader_table(info, 'airbyte_shopify', 'raw_schema', {'shopify_fivetran': name[:-1]}) -%}
    {%- if execute and contract_key and 'id' not in info.columns and contract_key in info.columns -%}
        {{ exceptions.raise_compiler_error(
            shopseg_relation_label(info.relation) ~ " has the contract's column " ~ contract_key ~ " and not Airbyte's id: "
            ~ "it is a table of the 'contract' format, and source_format 'airbyte_shopify' reads Airbyte's streams. "
            ~ "Two formats mixed: set source_format (or var('raw_schema')) to match the tables (docs/source_formats.md).") }}
    {%- endif -%}
    {%- do shopseg_require_loader_columns(info, 'airbyte_shopify', columns) -%}
    {{ return(info) }}
{% endmacro %}

{#- SQL condition: the row is a deletion record (false when the stream has no deletion columns). -#}
{% macro shopseg_airbyte_deleted(alias, info) %}
    {%- set parts = [] -%}
    {%- if 'is_deleted' in info.columns -%}{%- do parts.append('coalesce(' ~ alias ~ '.is_deleted, false)') -%}{%- endif -%}
    {%- for name in ['deleted_at', '_ab_cdc_deleted_at'] -%}
        {%- if name in info.columns -%}{%- do parts.append(alias ~ '.' ~ name ~ ' is not null') -%}{%- endif -%}
    {%- endfor -%}
    {{ return('(' ~ (parts | join(' or ') if parts else 'false') ~ ')') }}
{% endmacro %}

{#-
    The stream with `shopseg_version` (1 = the version to read: the last extracted; for
    prefer_live, the last that is not a deletion record, when there is one). Ties (no
    extraction time) are broken arbitrarily.
-#}
{% macro shopseg_airbyte_versions(info, prefer_live=false) %}
    {%- set order_by = [] -%}
    {%- if prefer_live -%}{%- do order_by.append(shopseg_airbyte_deleted('v', info) ~ ' asc') -%}{%- endif -%}
    {%- for name in ['_airbyte_extracted_at', '_airbyte_emitted_at', 'updated_at', '_airbyte_raw_id', '_airbyte_ab_id'] -%}
        {%- if name in info.columns -%}{%- do order_by.append('v.' ~ name ~ ' desc nulls last') -%}{%- endif -%}
    {%- endfor -%}
    {#- rows without an id are all read: the bad-input rules report them -#}
    {{ return('(select v.*, case when v.id is null then 1 else row_number() over (partition by v.id order by '
              ~ (order_by | join(', ')) ~ ') end as shopseg_version from ' ~ info.relation ~ ' as v)') }}
{% endmacro %}

{#- A JSON array column (jsonb, json or text) as jsonb; anything that is not an array reads as []. -#}
{% macro shopseg_airbyte_array(expr) %}
    {{- return("(case when jsonb_typeof(cast(" ~ expr ~ " as jsonb)) = 'array' then cast(" ~ expr
               ~ " as jsonb) else cast('[]' as jsonb) end)") -}}
{% endmacro %}

{#- A number inside JSON (a JSON number or a numeric string), null when unreadable. -#}
{% macro shopseg_airbyte_number(text_expr) %}
    {{- return(shopseg_safe_cast(text_expr, 'text', 'numeric')) -}}
{% endmacro %}

{#- The orders stream, required, with its columns checked. -#}
{% macro shopseg_airbyte_shopify_order_table() %}
    {%- set orders = shopseg_airbyte_shopify_stream('orders', ['id', 'created_at', 'total_price'], 'order_id') -%}
    {%- if 'customer_id' not in orders.columns -%}
        {%- do shopseg_require_loader_columns(orders, 'airbyte_shopify', ['customer']) -%}
    {%- endif -%}
    {{ return(orders) }}
{% endmacro %}

{#- SQL condition on orders alias `o`: the order is left out (a test order or a deletion record). -#}
{% macro shopseg_airbyte_order_dropped(alias, orders) %}
    {{ return('(' ~ shopseg_airbyte_deleted(alias, orders) ~ ' or coalesce('
              ~ shopseg_loader_column(alias, orders, 'test', 'false') ~ ', false))') }}
{% endmacro %}

{% macro shopseg_airbyte_shopify_customers() %}
    {%- set customers = shopseg_airbyte_shopify_stream('customers', ['id'], 'customer_id') -%}
    {%- set kept = 'customer.shopseg_version = 1 and not ' ~ shopseg_airbyte_deleted('customer', customers) -%}
    {%- set versions = shopseg_airbyte_versions(customers) -%}
    {%- set sql -%}
        select
            customer.id as customer_id,
            {{ shopseg_loader_utc('customer', customers, 'created_at') }} as created_at,
            {%- if 'default_address' in customers.columns %}
            cast(customer.default_address as jsonb) ->> 'country_code' as country
            {%- else %}
            cast(null as text) as country
            {%- endif %}
        from {{ versions }} as customer
        where {{ kept }}
    {%- endset -%}
    {{ return(shopseg_loader_result('customers', 'airbyte_shopify', shopseg_relation_label(customers.relation), sql,
                                    excluded=shopseg_excluded_count(versions, 'customer', kept))) }}
{% endmacro %}

{% macro shopseg_airbyte_shopify_orders() %}
    {%- set orders = shopseg_airbyte_shopify_order_table() -%}
    {%- set versions = shopseg_airbyte_versions(orders) -%}
    {%- set kept = 'orders.shopseg_version = 1 and not ' ~ shopseg_airbyte_order_dropped('orders', orders) -%}
    {%- set sql -%}
        select
            orders.id as order_id,
            {%- if 'customer' in orders.columns %}
            cast(orders.customer as jsonb) ->> 'id' as customer_id,
            {%- else %}
            orders.customer_id,
            {%- endif %}
            {{ shopseg_loader_utc('orders', orders, 'created_at') }} as created_at,
            {{ shopseg_loader_column('orders', orders, 'currency') }} as currency,
            {{ shopseg_loader_column('orders', orders, 'total_line_items_price') }} as subtotal,
            {{ shopseg_loader_column('orders', orders, 'total_discounts') }} as discount_amount,
            {%- if 'shipping_lines' in orders.columns %}
            (
                select sum(coalesce({{ shopseg_airbyte_number("line ->> 'discounted_price'") }},
                                    {{ shopseg_airbyte_number("line ->> 'price'") }}))
                from jsonb_array_elements({{ shopseg_airbyte_array('orders.shipping_lines') }}) as shipping (line)
            ) as shipping_amount,
            {%- else %}
            null as shipping_amount,
            {%- endif %}
            {{ shopseg_loader_column('orders', orders, 'total_tax') }} as tax_amount,
            orders.total_price as total,
            {%- if 'discount_codes' in orders.columns %}
            (
                select code.item ->> 'code'
                from jsonb_array_elements({{ shopseg_airbyte_array('orders.discount_codes') }})
                    with ordinality as code (item, position)
                where nullif(trim(code.item ->> 'code'), '') is not null
                order by code.position
                limit 1
            ) as discount_code,
            {%- else %}
            cast(null as text) as discount_code,
            {%- endif %}
            {{ shopseg_loader_column('orders', orders, 'source_name') }} as sales_channel,
            {{ shopseg_loader_utc('orders', orders, 'cancelled_at') }} as cancelled_at
        from {{ versions }} as orders
        where {{ kept }}
    {%- endset -%}
    {{ return(shopseg_loader_result('orders', 'airbyte_shopify', shopseg_relation_label(orders.relation), sql,
                                    excluded=shopseg_excluded_count(versions, 'orders', kept))) }}
{% endmacro %}

{#- One row per element of orders.line_items (of each order's read version). -#}
{% macro shopseg_airbyte_shopify_order_lines() %}
    {%- set orders = shopseg_airbyte_shopify_order_table() -%}
    {%- set present = 'line_items' in orders.columns -%}
    {%- set line_items = shopseg_airbyte_array('orders.line_items') if present else "cast('[]' as jsonb)" -%}
    {%- set lines -%}
        (
            select
                orders.id as order_id,
                {{ shopseg_airbyte_order_dropped('orders', orders) }} as order_dropped,
                items.item
            from {{ shopseg_airbyte_versions(orders) }} as orders
            cross join lateral jsonb_array_elements({{ line_items }}) as items (item)
            where orders.shopseg_version = 1
        )
    {%- endset -%}
    {%- set sql -%}
        select
            line.item ->> 'id' as order_line_id,
            line.order_id,
            line.item ->> 'product_id' as product_id,
            line.item ->> 'quantity' as quantity,
            line.item ->> 'price' as unit_price,
            line.item ->> 'total_discount' as discount_amount
        from {{ lines }} as line
        where not line.order_dropped
    {%- endset -%}
    {{ return(shopseg_loader_result('order_lines', 'airbyte_shopify',
                                    shopseg_relation_label(orders.relation) ~ '.line_items', sql, present,
                                    shopseg_excluded_count(lines, 'line', 'not line.order_dropped'))) }}
{% endmacro %}

{#- Products: title, product_type as the category, the highest price of its nested variants. -#}
{% macro shopseg_airbyte_shopify_products() %}
    {%- set products = shopseg_loader_table('airbyte_shopify', 'products') -%}
    {%- do shopseg_require_loader_columns(products, 'airbyte_shopify', ['id']) -%}
    {%- set versions = shopseg_airbyte_versions(products, prefer_live=true) -%}
    {%- set sql -%}
        select
            product.id as product_id,
            {{ shopseg_loader_column('product', products, 'title') }} as title,
            nullif(trim({{ shopseg_loader_column('product', products, 'product_type') }}), '') as category,
            {%- if 'variants' in products.columns %}
            (
                select max({{ shopseg_airbyte_number("variant.item ->> 'price'") }})
                from jsonb_array_elements({{ shopseg_airbyte_array('product.variants') }}) as variant (item)
            ) as list_price
            {%- else %}
            null as list_price
            {%- endif %}
        from {{ versions }} as product
        where product.shopseg_version = 1
    {%- endset -%}
    {{ return(shopseg_loader_result('products', 'airbyte_shopify', shopseg_relation_label(products.relation), sql,
                                    products.exists,
                                    shopseg_excluded_count(versions, 'product', 'product.shopseg_version = 1'))) }}
{% endmacro %}

{#-
    One contract refund per Shopify refund, from the order_refunds stream or, when it is not
    synced, the orders' nested `refunds`. The money is what its successful, non-test `refund`
    transactions paid back (tax and shipping included); without any, its refund_line_items'
    subtotal + total_tax. The quantity is the sum of its refunded lines; order_line_id is set
    when the refund has exactly one.
-#}
{% macro shopseg_airbyte_shopify_refunds() %}
    {%- set orders = shopseg_airbyte_shopify_order_table() -%}
    {%- set refunds = shopseg_loader_table('airbyte_shopify', 'order_refunds') -%}
    {%- set nested = 'refunds' in orders.columns -%}
    {%- set nested_items = shopseg_airbyte_array('orders.refunds') if nested else "cast('[]' as jsonb)" -%}
    {%- if refunds.exists -%}
        {%- do shopseg_require_loader_columns(refunds, 'airbyte_shopify', ['id', 'order_id']) -%}
        {%- set dropped_orders = 'select 1 from ' ~ orders.relation ~ ' as dropped where dropped.id = r.order_id and '
                                 ~ shopseg_airbyte_order_dropped('dropped', orders) -%}
        {%- set label = shopseg_relation_label(refunds.relation) -%}
        {%- set rows -%}
            (
                select
                    r.id,
                    r.order_id,
                    {{ shopseg_loader_utc('r', refunds, 'created_at') }} as created_at,
                    {{ shopseg_loader_column('r', refunds, 'note') }} as note,
                    {{ shopseg_airbyte_array(shopseg_loader_column('r', refunds, 'refund_line_items')) }}
                        as refund_line_items,
                    {{ shopseg_airbyte_array(shopseg_loader_column('r', refunds, 'transactions')) }} as transactions,
                    r.shopseg_version = 1 and not {{ shopseg_airbyte_deleted('r', refunds) }}
                    and not exists ({{ dropped_orders }}) as is_kept
                from {{ shopseg_airbyte_versions(refunds) }} as r
            )
        {%- endset -%}
    {%- else -%}
        {%- set label = shopseg_relation_label(orders.relation) ~ '.refunds' -%}
        {%- set rows -%}
            (
                select
                    nested.item ->> 'id' as id,
                    orders.id as order_id,
                    nested.item ->> 'created_at' as created_at,
                    nested.item ->> 'note' as note,
                    {{ shopseg_airbyte_array("nested.item -> 'refund_line_items'") }} as refund_line_items,
                    {{ shopseg_airbyte_array("nested.item -> 'transactions'") }} as transactions,
                    not {{ shopseg_airbyte_order_dropped('orders', orders) }} as is_kept
                from {{ shopseg_airbyte_versions(orders) }} as orders
                cross join lateral jsonb_array_elements({{ nested_items }}) as nested (item)
                where orders.shopseg_version = 1
            )
        {%- endset -%}
    {%- endif -%}
    {%- set sql -%}
        select
            refund.id as refund_id,
            refund.order_id,
            case when lines.line_count = 1 then lines.order_line_id end as order_line_id,
            refund.created_at,
            coalesce(paid.amount, lines.amount) as amount,
            lines.quantity,
            refund.note as reason
        from {{ rows }} as refund
        cross join lateral (
            select
                count(*) as line_count,
                min(line.item ->> 'line_item_id') as order_line_id,
                sum({{ shopseg_airbyte_number("line.item ->> 'quantity'") }}) as quantity,
                sum(coalesce({{ shopseg_airbyte_number("line.item ->> 'subtotal'") }}, 0)
                    + coalesce({{ shopseg_airbyte_number("line.item ->> 'total_tax'") }}, 0)) as amount
            from jsonb_array_elements(refund.refund_line_items) as line (item)
        ) as lines
        cross join lateral (
            select sum({{ shopseg_airbyte_number("paid.item ->> 'amount'") }}) as amount
            from jsonb_array_elements(refund.transactions) as paid (item)
            where
                lower(paid.item ->> 'kind') = 'refund'
                and coalesce(lower(paid.item ->> 'status'), 'success') = 'success'
                and coalesce(lower(paid.item ->> 'test'), 'false') <> 'true'
        ) as paid
        where refund.is_kept
    {%- endset -%}
    {{ return(shopseg_loader_result('refunds', 'airbyte_shopify', label, sql, refunds.exists or nested,
                                    shopseg_excluded_count(rows, 'refund', 'refund.is_kept'))) }}
{% endmacro %}
