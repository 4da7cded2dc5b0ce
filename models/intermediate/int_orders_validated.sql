{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
    )
}}
{#-
    Every distinct order id with the rule that decides whether it counts as a purchase
    (docs/bad_input.md). rejection_reason is null for valid purchases, otherwise the first rule
    that rejects it. Duplicate order ids keep one row: the earliest, then the largest total.
    Orders dated after the reference date (possible when it is pinned) count, with recency 0.
    Incremental builds re-validate only the orders of int_customers_changed.
-#}
with orders as (
    select * from {{ ref('stg_shop__orders') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

deduplicated as (
    select distinct on (order_id) *
    from orders
    where order_id is not null
    order by order_id, ordered_at, order_total desc nulls last, customer_id
),

validated as (
    select
        deduplicated.order_id,
        deduplicated.customer_id,
        deduplicated.ordered_at,
        deduplicated.currency,
        deduplicated.subtotal,
        deduplicated.discount_amount,
        deduplicated.order_total,
        deduplicated.discount_code,
        case
            when deduplicated.customer_id is null then 'null_customer'
            when customers.customer_id is null then 'unknown_customer'
            when deduplicated.ordered_at is null then 'null_date'
            when deduplicated.cancelled_at is not null then 'cancelled'
            when deduplicated.ordered_at > now() then 'future_date'
            when deduplicated.order_total is null then 'null_total'
            when deduplicated.order_total < 0 then 'negative_total'
        end as rejection_reason
    from deduplicated
    left join customers on deduplicated.customer_id = customers.customer_id
)

select * from validated
