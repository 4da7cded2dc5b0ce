{#-
    source_format shopify_fivetran: Fivetran's Shopify connector schema (var('raw_schema')), as
    fivetran/dbt_shopify_source reads it, staged into the contract's shop tables. The mapping
    table and the rules are in docs/source_formats.md:
      * soft-deleted rows (_fivetran_deleted) of customer, order and the refund tables are left
        out, and so are `test` orders with their lines and refunds; products and variants are
        kept when deleted (they still describe what was bought);
      * timestamps without a time zone are UTC;
      * order_line, product / product_variant, refund / order_line_refund / transaction,
        order_discount_code and order_shipping_line are optional: a shop that does not sync them
        gets the same result as a contract export without those tables or columns.
-#}

{% macro shopseg_format_shopify_fivetran(table_name) %}
    {%- if table_name == 'customers' -%}
        {{ return(shopseg_shopify_fivetran_customers()) }}
    {%- elif table_name == 'orders' -%}
        {{ return(shopseg_shopify_fivetran_orders()) }}
    {%- elif table_name == 'order_lines' -%}
        {{ return(shopseg_shopify_fivetran_order_lines()) }}
    {%- elif table_name == 'products' -%}
        {{ return(shopseg_shopify_fivetran_products()) }}
    {%- elif table_name == 'refunds' -%}
        {{ return(shopseg_shopify_fivetran_refunds()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("source_format 'shopify_fivetran' has no table for " ~ table_name) }}
{% endmacro %}

{#- The contract tables of another format that mean the schema is not Fivetran's. -#}
{% macro shopseg_shopify_fivetran_others() %}
    {{ return({'contract': 'orders'}) }}
{% endmacro %}

{#- The order table, required, with its columns checked. -#}
{% macro shopseg_shopify_fivetran_order_table() %}
    {%- set orders = shopseg_loader_table('shopify_fivetran', 'order') -%}
    {%- do shopseg_require_loader_table(orders, 'shopify_fivetran', 'raw_schema', shopseg_shopify_fivetran_others()) -%}
    {%- do shopseg_require_loader_columns(orders, 'shopify_fivetran', ['id', 'customer_id', 'created_at', 'total_price']) -%}
    {{ return(orders) }}
{% endmacro %}

{#-
    SQL condition on alias.order_id: the order is not one the format leaves out (a test order or
    a soft-deleted one); lines and refunds of such orders go with them.
-#}
{% macro shopseg_shopify_fivetran_kept_order(order_id_expr, orders) %}
    {%- set dropped = [] -%}
    {%- if '_fivetran_deleted' in orders.columns -%}{%- do dropped.append('coalesce(excluded._fivetran_deleted, false)') -%}{%- endif -%}
    {%- if 'test' in orders.columns -%}{%- do dropped.append('coalesce(excluded.test, false)') -%}{%- endif -%}
    {%- if dropped | length == 0 -%}{{ return('true') }}{%- endif -%}
    {{ return('not exists (select 1 from ' ~ orders.relation ~ ' as excluded where excluded.id = ' ~ order_id_expr
              ~ ' and (' ~ (dropped | join(' or ')) ~ '))') }}
{% endmacro %}

{% macro shopseg_shopify_fivetran_customers() %}
    {%- set customers = shopseg_loader_table('shopify_fivetran', 'customer') -%}
    {%- do shopseg_require_loader_table(customers, 'shopify_fivetran', 'raw_schema', {'contract': 'customers'}) -%}
    {%- do shopseg_require_loader_columns(customers, 'shopify_fivetran', ['id']) -%}
    {%- set kept = shopseg_fivetran_live('customer', customers) -%}
    {%- set sql -%}
        select
            customer.id as customer_id,
            {{ shopseg_loader_utc('customer', customers, 'created_at') }} as created_at,
            cast(null as text) as country
        from {{ customers.relation }} as customer
        where {{ kept }}
    {%- endset -%}
    {{ return(shopseg_loader_result('customers', 'shopify_fivetran', shopseg_relation_label(customers.relation), sql,
                                    excluded=shopseg_excluded_count(customers.relation, 'customer', kept))) }}
{% endmacro %}

{% macro shopseg_shopify_fivetran_orders() %}
    {%- set orders = shopseg_shopify_fivetran_order_table() -%}
    {%- set codes = shopseg_loader_table('shopify_fivetran', 'order_discount_code') -%}
    {%- set shipping = shopseg_loader_table('shopify_fivetran', 'order_shipping_line') -%}
    {%- set kept = shopseg_fivetran_live('orders', orders) ~ ' and not coalesce('
                   ~ shopseg_loader_column('orders', orders, 'test', 'false') ~ ', false)' -%}
    {%- set sql -%}
        select
            orders.id as order_id,
            orders.customer_id,
            {{ shopseg_loader_utc('orders', orders, 'created_at') }} as created_at,
            {{ shopseg_loader_column('orders', orders, 'currency') }} as currency,
            {{ shopseg_loader_column('orders', orders, 'total_line_items_price') }} as subtotal,
            {{ shopseg_loader_column('orders', orders, 'total_discounts') }} as discount_amount,
            {{ 'shipping.shipping_amount' if shipping.exists else 'null' }} as shipping_amount,
            {{ shopseg_loader_column('orders', orders, 'total_tax') }} as tax_amount,
            orders.total_price as total,
            {{ 'codes.discount_code' if codes.exists else 'cast(null as text)' }} as discount_code,
            {{ shopseg_loader_column('orders', orders, 'source_name') }} as sales_channel,
            {{ shopseg_loader_utc('orders', orders, 'cancelled_at') }} as cancelled_at
        from {{ orders.relation }} as orders
        {%- if codes.exists %}
        left join (
            select
                order_id,
                (array_agg(code order by {{ shopseg_loader_column('c', codes, 'index', 'code') }}))[1] as discount_code
            from {{ codes.relation }} as c
            where nullif(trim(code), '') is not null and {{ shopseg_fivetran_live('c', codes) }}
            group by order_id
        ) as codes on orders.id = codes.order_id
        {%- endif %}
        {%- if shipping.exists %}
        left join (
            select
                order_id,
                sum(coalesce({{ shopseg_loader_column('s', shipping, 'discounted_price') }}, s.price)) as shipping_amount
            from {{ shipping.relation }} as s
            where {{ shopseg_fivetran_live('s', shipping) }}
            group by order_id
        ) as shipping on orders.id = shipping.order_id
        {%- endif %}
        where {{ kept }}
    {%- endset -%}
    {{ return(shopseg_loader_result('orders', 'shopify_fivetran', shopseg_relation_label(orders.relation), sql,
                                    excluded=shopseg_excluded_count(orders.relation, 'orders', kept))) }}
{% endmacro %}

{% macro shopseg_shopify_fivetran_order_lines() %}
    {%- set orders = shopseg_shopify_fivetran_order_table() -%}
    {%- set lines = shopseg_loader_table('shopify_fivetran', 'order_line') -%}
    {%- do shopseg_require_loader_columns(lines, 'shopify_fivetran', ['id', 'order_id', 'quantity', 'price']) -%}
    {%- set kept = shopseg_fivetran_live('line', lines) ~ ' and ' ~ shopseg_shopify_fivetran_kept_order('line.order_id', orders) -%}
    {%- set sql -%}
        select
            line.id as order_line_id,
            line.order_id,
            {{ shopseg_loader_column('line', lines, 'product_id') }} as product_id,
            line.quantity,
            line.price as unit_price,
            {{ shopseg_loader_column('line', lines, 'total_discount') }} as discount_amount
        from {{ lines.relation }} as line
        where {{ kept }}
    {%- endset -%}
    {{ return(shopseg_loader_result('order_lines', 'shopify_fivetran', shopseg_relation_label(lines.relation), sql,
                                    lines.exists, shopseg_excluded_count(lines.relation, 'line', kept))) }}
{% endmacro %}

{% macro shopseg_shopify_fivetran_products() %}
    {%- set products = shopseg_loader_table('shopify_fivetran', 'product') -%}
    {%- set variants = shopseg_loader_table('shopify_fivetran', 'product_variant') -%}
    {%- do shopseg_require_loader_columns(products, 'shopify_fivetran', ['id']) -%}
    {%- set sql -%}
        select
            product.id as product_id,
            {{ shopseg_loader_column('product', products, 'title') }} as title,
            nullif(trim({{ shopseg_loader_column('product', products, 'product_type') }}), '') as category,
            {{ 'prices.list_price' if variants.exists else 'null' }} as list_price
        from {{ products.relation }} as product
        {%- if variants.exists %}
        left join (
            select
                product_id,
                max(price) as list_price
            from {{ variants.relation }}
            group by product_id
        ) as prices on product.id = prices.product_id
        {%- endif %}
    {%- endset -%}
    {{ return(shopseg_loader_result('products', 'shopify_fivetran', shopseg_relation_label(products.relation), sql, products.exists)) }}
{% endmacro %}

{#-
    One contract refund per Shopify refund: the money is what its successful refund transactions
    paid back (tax and shipping included); without transactions, the refunded lines' subtotal
    and tax. The quantity is the sum of its refunded lines; order_line_id is set when the refund
    covers exactly one line.
-#}
{% macro shopseg_shopify_fivetran_refunds() %}
    {%- set orders = shopseg_shopify_fivetran_order_table() -%}
    {%- set refunds = shopseg_loader_table('shopify_fivetran', 'refund') -%}
    {%- set line_refunds = shopseg_loader_table('shopify_fivetran', 'order_line_refund') -%}
    {%- set transactions = shopseg_loader_table('shopify_fivetran', 'transaction') -%}
    {%- do shopseg_require_loader_columns(refunds, 'shopify_fivetran', ['id', 'order_id']) -%}
    {%- set kept = shopseg_fivetran_live('refund', refunds) ~ ' and ' ~ shopseg_shopify_fivetran_kept_order('refund.order_id', orders) -%}
    {%- set sql -%}
        select
            refund.id as refund_id,
            refund.order_id,
            {{ 'case when lines.line_count = 1 then lines.order_line_id end' if line_refunds.exists else 'null' }}
                as order_line_id,
            {{ shopseg_loader_utc('refund', refunds, 'created_at') }} as created_at,
            {%- if transactions.exists and line_refunds.exists %}
            coalesce(paid.amount, lines.amount) as amount,
            {%- elif transactions.exists %}
            paid.amount as amount,
            {%- elif line_refunds.exists %}
            lines.amount as amount,
            {%- else %}
            null as amount,
            {%- endif %}
            {{ 'lines.quantity' if line_refunds.exists else 'null' }} as quantity,
            {{ shopseg_loader_column('refund', refunds, 'note') }} as reason
        from {{ refunds.relation }} as refund
        {%- if line_refunds.exists %}
        left join (
            select
                refund_id,
                count(*) as line_count,
                min(order_line_id) as order_line_id,
                sum(quantity) as quantity,
                sum(coalesce(subtotal, 0) + coalesce({{ shopseg_loader_column('r', line_refunds, 'total_tax', '0') }}, 0))
                    as amount
            from {{ line_refunds.relation }} as r
            where {{ shopseg_fivetran_live('r', line_refunds) }}
            group by refund_id
        ) as lines on refund.id = lines.refund_id
        {%- endif %}
        {%- if transactions.exists %}
        left join (
            select
                refund_id,
                sum(amount) as amount
            from {{ transactions.relation }} as t
            where
                refund_id is not null
                and lower(kind) = 'refund'
                and coalesce(lower({{ shopseg_loader_column('t', transactions, 'status') }}), 'success') = 'success'
                and not coalesce({{ shopseg_loader_column('t', transactions, 'test', 'false') }}, false)
                and {{ shopseg_fivetran_live('t', transactions) }}
            group by refund_id
        ) as paid on refund.id = paid.refund_id
        {%- endif %}
        where {{ kept }}
    {%- endset -%}
    {{ return(shopseg_loader_result('refunds', 'shopify_fivetran', shopseg_relation_label(refunds.relation), sql,
                                    refunds.exists, shopseg_excluded_count(refunds.relation, 'refund', kept))) }}
{% endmacro %}
