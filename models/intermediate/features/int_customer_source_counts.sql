{#-
    Per customer, how many source rows count for their features and a fingerprint of every column
    of them that a feature reads: their valid orders (int_orders_validated), the counted lines and
    refunds of those orders (both carry their valid order's customer_id) and their counted
    tickets. Stored with the features (int_customer_features.source_fingerprint), it
    lets the next incremental build find every customer whose feature inputs changed
    (int_customers_changed, reason source_rows_changed), whatever timestamps the rows carry: a
    new, late-arriving, deleted, cancelled or edited order, line, refund or ticket, a row moved to
    another order or customer, a row that became valid or invalid, the previous owner of an order
    id now kept for another customer (docs/lifecycle.md lists them).

    Cheap by design: one pass per table, no join and no sort. Each row is hashed with
    hash_record_extended (64 bits, PostgreSQL 14+) over a row() of the columns features read, with
    one seed per table; keys are hashed in their own type (bigint, text and uuid are all hashable;
    casting them to text cost CPU for nothing: a key type change between builds already stops
    the daily build until a --full-refresh) and timestamps as
    timestamptz, whose hash does not depend on the session TimeZone. The hashes
    are summed per customer (order-independent, and unlike a xor it keeps duplicate rows): the
    fingerprint is "rows:sum", so a change of the number of counted rows is always seen, and an
    edit goes unseen only if the sums collide (about 2^-64 for data not crafted against
    PostgreSQL's non-cryptographic hash). A missed edit leaves one customer stale until the monthly
    full rebuild.
    The columns hashed here are the ones the feature models read (int_orders_enriched and the three
    feature models): a feature that reads another source column must add it here.
-#}
with orders as (
    select * from {{ ref('int_orders_validated') }}
    where rejection_reason is null
),

hashed_rows as (
    select
        customer_id,
        hash_record_extended(
            row(
                order_id,
                ordered_at,
                order_total,
                subtotal,
                discount_amount,
                discount_code,
                currency_rate
            ),
            0
        ) as row_hash
    from orders
    union all
    -- the counted lines and refunds carry their valid order's customer (no join)
    select
        customer_id,
        hash_record_extended(
            row(order_id, product_id, quantity, unit_price, line_discount_amount), 1
        ) as row_hash
    from {{ ref('int_order_lines_validated') }}
    where rejection_reason is null and customer_id is not null
    union all
    select
        customer_id,
        hash_record_extended(row(order_id, refund_amount, refund_quantity), 2) as row_hash
    from {{ ref('int_refunds_validated') }}
    where rejection_reason is null and customer_id is not null
    union all
    select
        customer_id,
        hash_record_extended(
            row(channel, topic, message_count, resolution_hours, is_escalated, is_reopened), 3
        ) as row_hash
    from {{ ref('int_support_tickets_validated') }}
    where rejection_reason is null
)

select
    customer_id,
    count(*) as source_rows,
    count(*) || ':' || sum(row_hash) as source_fingerprint
from hashed_rows
group by customer_id
