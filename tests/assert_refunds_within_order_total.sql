{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input: valid orders whose refunds add up to more than the order total. The rule
    (int_orders_enriched): refunds are capped at the order total, so the order's net value is 0,
    never negative. One row per order, with the amounts (in the reporting currency).
-#}
with orders as (
    select
        order_id,
        customer_id,
        order_total,
        currency_rate
    from {{ ref('int_orders_validated') }}
    where rejection_reason is null
),

refunds as (
    select
        order_id,
        sum(refund_amount) as refunded,
        count(*) as refund_rows
    from {{ ref('int_refunds_validated') }}
    where rejection_reason is null
    group by order_id
)

select
    'refunds' as source_table,
    orders.order_id,
    orders.customer_id,
    orders.order_total,
    refunds.refunded * orders.currency_rate as refunded_total,
    refunds.refund_rows,
    'refunds exceed the order total: capped at the order total (net value 0)' as rule_applied,
    'refunds.amount: the refunds of order_id ' || orders.order_id || ' (customer_id ' || orders.customer_id
    || ') add up to ' || round(refunds.refunded * orders.currency_rate, 2) || ', more than its total '
    || round(orders.order_total, 2) || ' -> capped at the order total (net value 0)' as message
from orders
inner join refunds on orders.order_id = refunds.order_id
where refunds.refunded * orders.currency_rate > orders.order_total
