{#-
    Where each product's list price sits within its category: the percentile (0..1, percent_rank)
    and whether it is above the category's median list price, from the product rows that position
    their product (int_products_validated: one per id; without a category, a usable price or a
    plausible id a product gets no position, and value_sophistication has less signal).
-#}
with deduplicated as (
    select * from {{ ref('int_products_validated') }}
    where rejection_reason is null
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
