with source as (
    {{ select_source_columns('shop', 'order_lines') }}
),

renamed as (
    select
        cast(order_line_id as {{ shopseg_key_type('order_line') }}) as order_line_id,
        cast(order_id as {{ shopseg_key_type('order') }}) as order_id,
        cast(product_id as {{ shopseg_key_type('product') }}) as product_id,
        cast(quantity as numeric) as quantity,
        cast(unit_price as numeric) as unit_price,
        cast(discount_amount as numeric) as line_discount_amount
    from source
)

select * from renamed
