{#-
    Every staged refund with the rules that decide whether and how it counts (docs/bad_input.md).
    A table rebuilt on every build (see int_order_lines_validated).
      rejection_reason  null = counted; otherwise the refund is ignored:
                          null_order              no order_id
                          id_too_long             an id longer than var max_key_length
                          unknown_order           order_id not in orders
                          future_date             created_at after the build's clock
                          implausible_date        created_at before var min_source_date
                          amount_out_of_bounds    amount above var max_order_total
                          quantity_out_of_bounds  quantity above var max_line_quantity
      value_rule        negative_counted_as_0 when amount or quantity is below 0; a missing or
                        unreadable amount or quantity counts as 0 too
      customer_id       the customer of the refund's order when that order is a valid purchase
                        (int_orders_validated without a rejection_reason); null otherwise
    A refund without a date counts (the date is not needed to attach it to its order). Refunds of
    orders that exist but are rejected go with their order, as lines do (int_order_lines_validated):
    no rejection_reason, no customer_id.
-#}
with refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

orders as (
    select
        order_id,
        customer_id,
        rejection_reason
    from {{ ref('int_orders_validated') }}
),

validated as (
    select
        refunds.refund_id,
        refunds.order_id,
        refunds.order_line_id,
        refunds.refunded_at,
        greatest(coalesce(refunds.refund_amount, 0), 0) as refund_amount,
        greatest(coalesce(refunds.refund_quantity, 0), 0) as refund_quantity,
        refunds.refund_reason,
        case when orders.rejection_reason is null then orders.customer_id end as customer_id,
        case
            when refunds.order_id is null then 'null_order'
            when {{ shopseg_key_too_long('refunds.order_id', 'order') }}
                or {{ shopseg_key_too_long('refunds.refund_id', 'refund') }} then 'id_too_long'
            when orders.order_id is null then 'unknown_order'
            when refunds.refunded_at > now() then 'future_date'
            when refunds.refunded_at < {{ shopseg_min_date('refunds') }} then 'implausible_date'
            when refunds.refund_amount > {{ shopseg_bound('max_order_total') }} then 'amount_out_of_bounds'
            when refunds.refund_quantity > {{ shopseg_bound('max_line_quantity') }} then 'quantity_out_of_bounds'
        end as rejection_reason,
        case when refunds.refund_amount < 0 or refunds.refund_quantity < 0 then 'negative_counted_as_0' end
            as value_rule
    from refunds
    left join orders on refunds.order_id = orders.order_id
)

select * from validated
