{#-
    Every distinct order id with the rule that decides whether it counts as a purchase
    (docs/bad_input.md). rejection_reason is null for valid purchases, otherwise the first rule
    that rejects it. Duplicate order ids keep one row: the earliest, then the largest total.
-#}
with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

reference as (
    select reference_date from {{ ref('int_reference_date_resolved') }}
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
            when deduplicated.ordered_at::date > reference.reference_date then 'after_reference_date'
            when deduplicated.order_total is null then 'null_total'
            when deduplicated.order_total < 0 then 'negative_total'
        end as rejection_reason
    from deduplicated
    cross join reference
    left join customers on deduplicated.customer_id = customers.customer_id
)

select * from validated
