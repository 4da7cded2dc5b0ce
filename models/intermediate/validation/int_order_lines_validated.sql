{#-
    Every staged order line with the rules that decide whether and how it counts
    (docs/bad_input.md). A table rebuilt on every build (a view over two staging views deadlocked
    with shopseg_keep_dependent_views when both were replaced at once).
      rejection_reason  null = counted; otherwise the line is ignored:
                          null_order              no order_id
                          id_too_long             an id longer than var max_key_length
                          unknown_order           order_id not in orders
                          quantity_out_of_bounds  quantity above var max_line_quantity (10,000)
                          price_out_of_bounds     unit_price above var max_unit_price (1e8)
      value_rule        negative_counted_as_0 when quantity or unit_price is below 0 (both are
                        read as 0 at least)
      customer_id       the customer of the line's order when that order is a valid purchase
                        (int_orders_validated without a rejection_reason); null otherwise
    Lines of orders that exist but are rejected go with their order: their rejection_reason is null
    and their customer_id is null. So a line counts for a customer exactly when rejection_reason is
    null and customer_id is not: the feature models and the change detection read the lines without
    joining every line to its order again (one join here instead of one per reader;
    docs/decisions.md). The order ids are int_orders_validated's: every distinct non-null staged
    order id, one row each, so the join keeps one row per line.
-#}
with lines as (
    select * from {{ ref('stg_shop__order_lines') }}
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
        lines.order_line_id,
        lines.order_id,
        lines.product_id,
        greatest(lines.quantity, 0) as quantity,
        greatest(lines.unit_price, 0) as unit_price,
        lines.line_discount_amount,
        case when orders.rejection_reason is null then orders.customer_id end as customer_id,
        case
            when lines.order_id is null then 'null_order'
            when {{ shopseg_key_too_long('lines.order_id', 'order') }}
                or {{ shopseg_key_too_long('lines.order_line_id', 'order_line') }}
                or {{ shopseg_key_too_long('lines.product_id', 'product') }} then 'id_too_long'
            when orders.order_id is null then 'unknown_order'
            when lines.quantity > {{ shopseg_bound('max_line_quantity') }} then 'quantity_out_of_bounds'
            when lines.unit_price > {{ shopseg_bound('max_unit_price') }} then 'price_out_of_bounds'
        end as rejection_reason,
        case when lines.quantity < 0 or lines.unit_price < 0 then 'negative_counted_as_0' end as value_rule
    from lines
    left join orders on lines.order_id = orders.order_id
)

select * from validated
