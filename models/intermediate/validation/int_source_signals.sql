{#-
    Which signals the sources carry (one row per signal): an axis is segmented only when every
    signal it needs is present (seeds/segment_axis_signals.csv; the segment_centroids model reads
    both). A signal is present when at least one row carries it; each check stops at that row.
-#}
with order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
),

categorised_products as (
    select product_id from products
    where category is not null
),

priced_products as (
    select product_id from products
    where list_price > 0
),

signals as (
    select
        'order_lines' as signal_name,
        'order lines (table order_lines)' as needs,
        exists(select 1 from order_lines) as is_present
    union all
    select
        'product_categories' as signal_name,
        'order lines of products with a category (order_lines, products.category)' as needs,
        exists(
            -- a hashed subplan over the (small) products: the scan of the lines stops at the first hit
            select 1 from order_lines
            where product_id in (select categorised_products.product_id from categorised_products)
        ) as is_present
    union all
    select
        'list_prices' as signal_name,
        'order lines of products with a list price (order_lines, products.list_price)' as needs,
        exists(
            select 1 from order_lines
            where product_id in (select priced_products.product_id from priced_products)
        ) as is_present
    union all
    select
        'refunds' as signal_name,
        'refunds (table refunds)' as needs,
        exists(select 1 from refunds) as is_present
    union all
    select
        'support_tickets' as signal_name,
        'support tickets of customers (table support_tickets)' as needs,
        exists(
            select 1 from tickets
            where customer_id is not null
        ) as is_present
    union all
    select
        'ticket_topics' as signal_name,
        'support tickets with a topic (support_tickets.topic)' as needs,
        exists(
            select 1 from tickets
            where customer_id is not null and topic is not null
        ) as is_present
)

select * from signals
