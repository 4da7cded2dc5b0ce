{#-
    How many source rows each customer has: orders (and how many of them are cancelled), refunds
    (through their orders) and tickets, and a fingerprint of the customer's set of valid orders
    (int_orders_validated: id, date, total). Stored with the features, they let the next
    incremental build find the customers whose source rows or valid orders changed
    (int_customers_changed), whatever timestamps late-arriving rows carry: the previous owner of a
    re-assigned order id, an order that became valid or invalid, an edited valid order.
-#}
with orders as (
    select
        order_id,
        customer_id,
        cancelled_at
    from {{ ref('stg_shop__orders') }}
    where customer_id is not null
),

refunds as (
    select order_id from {{ ref('stg_shop__refunds') }}
),

valid_orders as (
    select
        customer_id,
        md5(
            string_agg(
                order_id || '|' || extract(epoch from ordered_at) || '|' || order_total, ',' order by order_id
            )
        ) as valid_orders_fingerprint
    from {{ ref('int_orders_validated') }}
    where rejection_reason is null
    group by customer_id
),

tickets as (
    select customer_id from {{ ref('stg_helpdesk__support_tickets') }}
    where customer_id is not null
),

order_counts as (
    select
        customer_id,
        count(*) as order_rows,
        count(cancelled_at) as cancelled_order_rows
    from orders
    group by customer_id
),

refund_counts as (
    select
        orders.customer_id,
        count(*) as refund_rows
    from refunds
    inner join orders on refunds.order_id = orders.order_id
    group by orders.customer_id
),

ticket_counts as (
    select
        customer_id,
        count(*) as ticket_rows
    from tickets
    group by customer_id
),

customers as (
    select customer_id from order_counts
    union
    select customer_id from ticket_counts
    union
    select customer_id from valid_orders
)

select
    customers.customer_id,
    coalesce(order_counts.order_rows, 0) as order_rows,
    coalesce(order_counts.cancelled_order_rows, 0) as cancelled_order_rows,
    coalesce(refund_counts.refund_rows, 0) as refund_rows,
    coalesce(ticket_counts.ticket_rows, 0) as ticket_rows,
    valid_orders.valid_orders_fingerprint
from customers
left join order_counts on customers.customer_id = order_counts.customer_id
left join refund_counts on customers.customer_id = refund_counts.customer_id
left join ticket_counts on customers.customer_id = ticket_counts.customer_id
left join valid_orders on customers.customer_id = valid_orders.customer_id
