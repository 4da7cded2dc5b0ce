{#-
    Where each product's list price sits within its category: the percentile (0..1, percent_rank)
    and whether it is above the category's median list price. Products without a category or a
    price get no position (value_sophistication then has less signal).
-#}
with products as (
    select * from {{ ref('stg_shop__products') }}
),

deduplicated as (
    select distinct on (product_id) *
    from products
    where
        product_id is not null
        and category is not null
        and list_price is not null
        and list_price >= 0
    order by product_id asc, list_price desc
),

category_medians as (
    select
        category,
        percentile_cont(0.5) within group (order by list_price) as category_median_price
    from deduplicated
    group by category
),

positioned as (
    select
        deduplicated.product_id,
        deduplicated.category,
        deduplicated.list_price,
        percent_rank() over (
            partition by deduplicated.category order by deduplicated.list_price
        ) as price_percentile,
        deduplicated.list_price > category_medians.category_median_price as is_above_category_median
    from deduplicated
    inner join category_medians on deduplicated.category = category_medians.category
)

select * from positioned
