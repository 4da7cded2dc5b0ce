{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
        on_schema_change='sync_all_columns',
    )
}}
{#-
    Order-line features per customer (the lines that count: int_order_lines_validated without a
    rejection_reason and with a customer_id, which it sets exactly on the lines of valid
    purchases): category exploration, product repurchase and price positioning, and the items
    bought (item_count, the sum of the counted line quantities: int_customer_features divides it
    into items_per_order and item_return_rate).
    Lines of unknown products count as items but have no category or price position. Empty when
    there are no order lines.
    Each aggregate reads the lines at the grain it needs (docs/benchmarks.md, "Line features"):
    spend shares and price position straight per customer, items per (customer, category), and only
    "bought in several orders" per (customer, product), whose smallest and largest order ids differ
    exactly then. Sums stay numeric, so they are exact and do not depend on the order rows arrive
    in (the incremental and the full build give identical features). A full build reads every line
    three times, once per grain (faster than one spilled copy; the per-customer scan runs in
    parallel); an incremental build keeps the few re-computed customers' lines once
    (materialized).
-#}
with lines as (
    -- customer_id is set exactly on the lines of valid purchases
    select * from {{ ref('int_order_lines_validated') }}
    where
        rejection_reason is null
        and customer_id is not null
        and {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

price_positions as (
    select * from {{ ref('int_product_price_positions') }}
),

customer_lines as {{ 'materialized' if is_incremental() else 'not materialized' }} (
    select
        lines.customer_id,
        lines.order_id,
        lines.product_id,
        greatest(lines.quantity, 0) as quantity,
        greatest(lines.quantity, 0) * greatest(lines.unit_price, 0) as line_value,
        coalesce(lines.line_discount_amount, 0) <= 0 as is_full_price,
        price_positions.category,
        price_positions.price_percentile,
        price_positions.is_above_category_median
    from lines
    left join price_positions on lines.product_id = price_positions.product_id
),

customer_stats as (
    select
        customer_id,
        coalesce(
            sum(line_value) filter (where is_above_category_median) / nullif(sum(line_value), 0), 0
        ) as premium_spend_share,
        coalesce(
            sum(price_percentile::numeric * quantity)
            / nullif(sum(quantity) filter (where price_percentile is not null), 0),
            0
        ) as avg_price_percentile,
        (count(*) filter (where is_full_price))::numeric / nullif(count(*), 0) as full_price_share,
        sum(quantity) as item_count
    from customer_lines
    group by customer_id
),

product_orders as (
    -- a product was bought in several orders exactly when its lines' order ids differ
    select
        customer_id,
        min(order_id) <> max(order_id) as bought_in_several_orders
    from customer_lines
    where product_id is not null
    group by customer_id, product_id
),

product_stats as (
    select
        customer_id,
        count(*) as distinct_products,
        avg(bought_in_several_orders::int) as repeat_product_rate
    from product_orders
    group by customer_id
),

per_category as (
    -- with the customer's items over all categories: a window over the grouped rows, instead of
    -- a second aggregation joined back (this CTE is then read once, not materialized)
    select
        customer_id,
        category,
        sum(quantity) as category_items,
        sum(sum(quantity)) over (partition by customer_id) as items
    from customer_lines
    where category is not null
    group by customer_id, category
),

category_stats as (
    select
        per_category.customer_id,
        count(*) as distinct_categories,
        -- per-category terms in double precision (numeric log is slow), summed exactly as numeric
        sum(
            case
                when per_category.category_items > 0
                    then (
                        -(per_category.category_items / per_category.items)::double precision
                        * ln((per_category.category_items / per_category.items)::double precision)
                        / ln(2.0::double precision)
                    )::numeric
                else 0
            end
        ) as category_entropy,
        max(per_category.category_items) / nullif(max(per_category.items), 0) as top_category_share
    from per_category
    group by per_category.customer_id
)

select
    customer_stats.customer_id,
    customer_stats.item_count,
    coalesce(category_stats.distinct_categories, 0) as distinct_categories,
    coalesce(category_stats.category_entropy, 0)::double precision as category_entropy,
    coalesce(category_stats.top_category_share, 0)::double precision as top_category_share,
    coalesce(product_stats.distinct_products, 0) as distinct_products,
    coalesce(product_stats.repeat_product_rate, 0)::double precision as repeat_product_rate,
    customer_stats.premium_spend_share::double precision as premium_spend_share,
    customer_stats.avg_price_percentile::double precision as avg_price_percentile,
    coalesce(customer_stats.full_price_share, 0)::double precision as full_price_share
from customer_stats
left join product_stats on customer_stats.customer_id = product_stats.customer_id
left join category_stats on customer_stats.customer_id = category_stats.customer_id
