with source as (
    {{ select_source_columns('shop', 'products', {
        'product_id': 'text', 'title': 'text', 'category': 'text', 'list_price': 'numeric'
    }, optional_columns=['title', 'category', 'list_price']) }}
),

renamed as (
    select
        cast(product_id as text) as product_id,
        cast(title as text) as product_title,
        cast(category as text) as category,
        cast(list_price as numeric) as list_price
    from source
)

select * from renamed
