with source as (
    {{ select_source_columns('shop', 'order_lines', {
        'order_line_id': 'text', 'order_id': 'text', 'product_id': 'text', 'quantity': 'numeric',
        'unit_price': 'numeric', 'discount_amount': 'numeric'
    }, optional_columns=['discount_amount'], optional_table=true) }}
),

renamed as (
    select
        cast(order_line_id as text) as order_line_id,
        cast(order_id as text) as order_id,
        cast(product_id as text) as product_id,
        cast(quantity as numeric) as quantity,
        cast(unit_price as numeric) as unit_price,
        cast(discount_amount as numeric) as line_discount_amount
    from source
)

select * from renamed
