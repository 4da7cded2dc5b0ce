{#-
    Every staged product row with the rule that decides whether it positions its product within its
    category (docs/bad_input.md). rejection_reason null = it does; otherwise:
      null_id               no product_id
      id_too_long           product_id longer than var max_key_length
      no_category           no category (a catalog property, not reported)
      no_price              list price missing or below 0 (a catalog property, not reported)
      price_out_of_bounds   list price above var max_unit_price (1e8): reported
      duplicate_id          another row of the same product id has a higher list price (that one
                            positions the product)
-#}
with products as (
    select * from {{ ref('stg_shop__products') }}
),

checked as (
    select
        products.*,
        case
            when products.product_id is null then 'null_id'
            when {{ shopseg_key_too_long('products.product_id', 'product') }} then 'id_too_long'
            when products.category is null then 'no_category'
            when products.list_price is null or products.list_price < 0 then 'no_price'
            when products.list_price > {{ shopseg_bound('max_unit_price') }} then 'price_out_of_bounds'
        end as row_reason
    from products
),

ranked as (
    select
        checked.*,
        row_number() over (
            partition by checked.product_id, checked.row_reason is null
            order by checked.list_price desc, checked.category asc
        ) as copy_number
    from checked
)

select
    product_id,
    product_title,
    category,
    list_price,
    coalesce(row_reason, case when copy_number > 1 then 'duplicate_id' end) as rejection_reason
from ranked
