{{ config(severity='error', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input that stops the build: more than var('max_rejected_order_share') (default 0.5) of
    the orders rejected for reasons other than cancellation. That is a mapping problem (wrong
    customers table, ids that do not match, a reporting currency most orders are not in, amounts
    written with a decimal comma), not a shop: segmenting the remainder would be garbage. The row
    names the share, the main reason and what to check. Runs before the features are built, so
    the previous outputs stay in place.
-#}
{%- set max_share = var('max_rejected_order_share', 0.5) | float %}

with validated as (
    select
        order_id,
        rejection_reason
    from {{ ref('int_orders_validated') }}
),

totals as (
    select
        count(*) as orders_total,
        count(*) filter (where rejection_reason is not null and rejection_reason <> 'cancelled') as orders_rejected
    from validated
),

top_reason as (
    select
        rejection_reason,
        count(*) as orders_with_reason
    from validated
    where rejection_reason is not null and rejection_reason <> 'cancelled'
    group by rejection_reason
    order by count(*) desc, rejection_reason
    limit 1
),

examples as (
    select string_agg(validated.order_id::text, ', ' order by validated.order_id) as example_order_ids
    from (
        select validated.order_id
        from validated
        inner join top_reason on validated.rejection_reason = top_reason.rejection_reason
        order by validated.order_id
        limit 5
    ) as validated
)

select
    'orders' as source_table,
    totals.orders_total,
    totals.orders_rejected,
    round(totals.orders_rejected::numeric / totals.orders_total, 3) as rejected_share,
    top_reason.rejection_reason as main_reason,
    examples.example_order_ids,
    'orders.' || {{ shopseg_order_rule_column('top_reason.rejection_reason') }} || ': '
    || round(100.0 * totals.orders_rejected / totals.orders_total, 1) || '% of the orders ('
    || totals.orders_rejected || ' of ' || totals.orders_total || ') are rejected (above '
    || round(100 * {{ max_share }}, 1) || '%, var max_rejected_order_share), mostly by rule '
    || top_reason.rejection_reason || ' (' || top_reason.orders_with_reason || ' orders, e.g. order_id '
    || examples.example_order_ids || ')'
    || ': check the source mapping (ids exported as 42.0? the customers table?), var reporting_currency /'
    || ' seeds/currency_rates.csv and the amount format; the build stopped before the outputs were rebuilt'
    || ' (all rules: assert_no_invalid_orders)' as message
from totals
cross join top_reason
cross join examples
where totals.orders_total > 0 and totals.orders_rejected > totals.orders_total * {{ max_share }}
