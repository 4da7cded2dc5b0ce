with source as (
    {{ select_source_columns('shop', 'orders', {
        'order_id': 'text', 'customer_id': 'text', 'created_at': 'timestamptz', 'currency': 'text',
        'subtotal': 'numeric', 'discount_amount': 'numeric', 'shipping_amount': 'numeric',
        'tax_amount': 'numeric', 'total': 'numeric', 'discount_code': 'text',
        'sales_channel': 'text', 'cancelled_at': 'timestamptz'
    }, optional_columns=['currency', 'subtotal', 'discount_amount', 'shipping_amount', 'tax_amount',
                         'discount_code', 'sales_channel', 'cancelled_at']) }}
),

renamed as (
    select
        cast(order_id as text) as order_id,
        cast(customer_id as text) as customer_id,
        cast(created_at as timestamptz) as ordered_at,
        upper(cast(currency as text)) as currency,
        cast(subtotal as numeric) as subtotal,
        cast(discount_amount as numeric) as discount_amount,
        cast(shipping_amount as numeric) as shipping_amount,
        cast(tax_amount as numeric) as tax_amount,
        cast(total as numeric) as order_total,
        nullif(trim(cast(discount_code as text)), '') as discount_code,
        cast(sales_channel as text) as sales_channel,
        cast(cancelled_at as timestamptz) as cancelled_at
    from source
)

select * from renamed
