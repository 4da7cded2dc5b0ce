with source as (
    {{ select_source_columns('shop', 'orders') }}
),

renamed as (
    select
        cast(order_id as {{ shopseg_key_type('order') }}) as order_id,
        cast(customer_id as {{ shopseg_key_type('customer') }}) as customer_id,
        cast(created_at as timestamptz) as ordered_at,
        nullif(upper(trim(cast(currency as text))), '') as currency,
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
