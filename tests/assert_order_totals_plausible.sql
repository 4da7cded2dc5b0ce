{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input (suspicious, kept): valid orders whose total is more than
    var('order_total_outlier_factor') (default 1000) times the median valid order total. They
    count (a real bulk order is possible), but one such order decides a customer's LTV tier and
    value segments, so they are listed with the customer to check. Totals above
    var('max_order_total') are rejected outright (absurd_total).
-#}
{%- set factor = var('order_total_outlier_factor', 1000) | float %}

with orders as (
    select
        order_id,
        customer_id,
        order_total
    from {{ ref('int_orders_validated') }}
    where rejection_reason is null
),

median_total as (
    select percentile_cont(0.5) within group (order by order_total) as median_order_total
    from orders
)

select
    'orders' as source_table,
    orders.order_id,
    orders.customer_id,
    orders.order_total,
    median_total.median_order_total,
    'total is more than {{ factor }} x the median order total: kept, check it' as problem,
    'orders.total: order_id ' || orders.order_id || ' (customer_id ' || orders.customer_id || ') totals '
    || round(orders.order_total, 2) || ', more than {{ factor }} x the median '
    || round(median_total.median_order_total::numeric, 2)
    || ' (var order_total_outlier_factor) -> kept (a bulk order is possible): check it' as message
from orders
cross join median_total
where median_total.median_order_total > 0
    and orders.order_total > median_total.median_order_total * {{ factor }}
