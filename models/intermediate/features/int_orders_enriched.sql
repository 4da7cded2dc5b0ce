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
    aggregated (the refunds that count: int_refunds_validated without a rejection_reason and with
    the valid order's customer_id, negative values already 0), converted with the order's rate.
    Refunds never exceed the order total (docs/bad_input.md). order_date and the holiday season
    are UTC. The order lines are not read here: the only per-order line figure the features used
    was the item count, and they need it per customer only, so int_customer_line_features sums it
    in the pass it already makes over the lines (one grouping of every line less per build;
    docs/decisions.md).
-#}
with orders as (
    select * from {{ ref('int_orders_validated') }}
    where
        rejection_reason is null
        and {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

refunds as (
    -- the counted refunds of valid purchases carry the order's customer: grouped without a join
    select * from {{ ref('int_refunds_validated') }}
    where
        rejection_reason is null
        and customer_id is not null
        and {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

refund_totals as (
    select
        order_id,
        sum(refund_amount) as refund_amount_in_order_currency,
        sum(refund_quantity) as refund_quantity
    from refunds
    group by order_id
),

refunded as (
    select
        orders.*,
        -- refunds are in the order's currency: convert with the order's rate
        refund_totals.refund_amount_in_order_currency * orders.currency_rate as refund_amount,
        refund_totals.refund_quantity
    from orders
    left join refund_totals on orders.order_id = refund_totals.order_id
),

enriched as (
    select
        refunded.order_id,
        refunded.customer_id,
        refunded.ordered_at,
        (refunded.ordered_at at time zone 'UTC')::date as order_date,
        refunded.order_total,
        least(coalesce(refunded.refund_amount, 0), refunded.order_total) as refunded_amount,
        refunded.order_total
        - least(coalesce(refunded.refund_amount, 0), refunded.order_total) as net_value,
        coalesce(refunded.refund_quantity, 0) as refunded_quantity,
        coalesce(refunded.refund_amount, 0) > 0
        or coalesce(refunded.refund_quantity, 0) > 0 as has_return,
        coalesce(refunded.discount_amount, 0) > 0 as has_discount,
        (
            case
                when refunded.subtotal > 0
                    then least(greatest(coalesce(refunded.discount_amount, 0), 0) / refunded.subtotal, 1)
                else 0
            end
        )::double precision as discount_rate,
        refunded.discount_code is not null as has_discount_code,
        extract(month from refunded.ordered_at at time zone 'UTC') in (11, 12) as is_holiday_season
    from refunded
)

select * from enriched
