{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
        on_schema_change='sync_all_columns',
    )
}}
{#-
    One row per valid purchase (int_orders_validated with no rejection_reason), with its refunds
    aggregated (the refunds that count: int_refunds_validated without a rejection_reason, negative
    values already 0). Refunds never exceed the order total (docs/bad_input.md). order_date and the
    holiday season are UTC. The order lines are not read here: the only per-order line figure the
    features used was the item count, and they need it per customer only, so
    int_customer_line_features sums it in the pass it already makes over the lines (one grouping of
    every line less per build; docs/decisions.md).
-#}
with orders as (
    select * from {{ ref('int_orders_validated') }}
    where
        rejection_reason is null
        and {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

refunds as (
    select * from {{ ref('int_refunds_validated') }}
    where rejection_reason is null
),

refund_totals as (
    select
        refunds.order_id,
        -- refunds are in the order's currency: convert with the order's rate
        sum(refunds.refund_amount) * max(orders.currency_rate) as refund_amount,
        sum(refunds.refund_quantity) as refund_quantity
    from refunds
    inner join orders on refunds.order_id = orders.order_id
    group by refunds.order_id
),

enriched as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        (orders.ordered_at at time zone 'UTC')::date as order_date,
        orders.order_total,
        least(coalesce(refund_totals.refund_amount, 0), orders.order_total) as refunded_amount,
        orders.order_total
        - least(coalesce(refund_totals.refund_amount, 0), orders.order_total) as net_value,
        coalesce(refund_totals.refund_quantity, 0) as refunded_quantity,
        coalesce(refund_totals.refund_amount, 0) > 0
        or coalesce(refund_totals.refund_quantity, 0) > 0 as has_return,
        coalesce(orders.discount_amount, 0) > 0 as has_discount,
        (
            case
                when orders.subtotal > 0
                    then least(greatest(coalesce(orders.discount_amount, 0), 0) / orders.subtotal, 1)
                else 0
            end
        )::double precision as discount_rate,
        orders.discount_code is not null as has_discount_code,
        extract(month from orders.ordered_at at time zone 'UTC') in (11, 12) as is_holiday_season
    from orders
    left join refund_totals on orders.order_id = refund_totals.order_id
)

select * from enriched
