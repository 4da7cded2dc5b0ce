with source as (
    {{ select_source_columns('shop', 'products') }}
),

renamed as (
    select
        cast(product_id as {{ shopseg_key_type('product') }}) as product_id,
        cast(title as text) as product_title,
        cast(category as text) as category,
        cast(list_price as numeric) as list_price
    from source
)

select * from renamed
