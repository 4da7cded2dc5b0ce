{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input in the optional tables that the features ignore or neutralise, one row per
    (table, problem) with the number of rows and up to five example keys (docs/bad_input.md):
      order_lines  line of an order id that is not in orders; negative quantity or unit price (0)
      refunds      refund of an order id that is not in orders; dated in the future (ignored);
                   negative amount or quantity (0)
      support_tickets  no customer / a customer not in customers / no date / dated in the future
                   (ignored); negative message count or resolution time (0)
    Refunds and lines of orders that exist but are rejected (cancelled, ...) are not listed:
    they go with their order (assert_no_invalid_orders).
-#}
with orders as (
    select distinct order_id from {{ ref('stg_shop__orders') }}
    where order_id is not null
),

customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
    where customer_id is not null
),

lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
),

findings as (
    select
        'order_lines' as source_table,
        'order_id not in orders' as problem,
        'line ignored' as rule_applied,
        lines.order_line_id as example_key
    from lines
    left join orders on lines.order_id = orders.order_id
    where lines.order_id is not null and orders.order_id is null
    union all
    select
        'order_lines' as source_table,
        'negative quantity or unit_price' as problem,
        'counted as 0' as rule_applied,
        order_line_id as example_key
    from lines
    where quantity < 0 or unit_price < 0
    union all
    select
        'refunds' as source_table,
        'order_id not in orders' as problem,
        'refund ignored' as rule_applied,
        refunds.refund_id as example_key
    from refunds
    left join orders on refunds.order_id = orders.order_id
    where refunds.order_id is not null and orders.order_id is null
    union all
    select
        'refunds' as source_table,
        'created_at in the future' as problem,
        'refund ignored' as rule_applied,
        refund_id as example_key
    from refunds
    where refunded_at > now()
    union all
    select
        'refunds' as source_table,
        'negative amount or quantity' as problem,
        'counted as 0' as rule_applied,
        refund_id as example_key
    from refunds
    where refund_amount < 0 or refund_quantity < 0
    union all
    select
        'support_tickets' as source_table,
        'no customer_id' as problem,
        'ticket ignored' as rule_applied,
        ticket_id as example_key
    from tickets
    where customer_id is null
    union all
    select
        'support_tickets' as source_table,
        'customer_id not in customers' as problem,
        'ticket ignored' as rule_applied,
        tickets.ticket_id as example_key
    from tickets
    left join customers on tickets.customer_id = customers.customer_id
    where tickets.customer_id is not null and customers.customer_id is null
    union all
    select
        'support_tickets' as source_table,
        'created_at missing or not a date' as problem,
        'ticket ignored' as rule_applied,
        ticket_id as example_key
    from tickets
    where ticket_created_at is null
    union all
    select
        'support_tickets' as source_table,
        'created_at in the future' as problem,
        'ticket ignored' as rule_applied,
        ticket_id as example_key
    from tickets
    where ticket_created_at > now()
    union all
    select
        'support_tickets' as source_table,
        'negative message_count or resolution_minutes' as problem,
        'counted as 0' as rule_applied,
        ticket_id as example_key
    from tickets
    where message_count < 0 or resolution_minutes < 0
),

numbered as (
    select
        *,
        row_number() over (partition by source_table, problem order by example_key) as example_number
    from findings
)

select
    source_table,
    problem,
    rule_applied,
    count(*) as rows_affected,
    string_agg(coalesce(example_key, '(null)'), ', ' order by example_key) filter (where example_number <= 5)
        as example_keys
from numbered
group by source_table, problem, rule_applied
