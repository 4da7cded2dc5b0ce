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

lines_with_products as (
    select
        products.category,
        products.list_price
    from order_lines
    inner join products on order_lines.product_id = products.product_id
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
            select 1 from lines_with_products
            where category is not null
        ) as is_present
    union all
    select
        'list_prices' as signal_name,
        'order lines of products with a list price (order_lines, products.list_price)' as needs,
        exists(
            select 1 from lines_with_products
            where list_price > 0
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
