{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input: orders that do not count as purchases for a reason other than cancellation, one
    row per rule of int_orders_validated with the number of orders and up to five example order
    ids (docs/bad_input.md). Warn only: the rule is applied and the build goes on;
    assert_rejected_order_share_below_limit stops it when most orders are rejected.
-#}
with validated as (
    select * from {{ ref('int_orders_validated') }}
    where rejection_reason is not null and rejection_reason <> 'cancelled'
),

numbered as (
    select
        rejection_reason,
        order_id,
        currency,
        row_number() over (partition by rejection_reason order by order_id) as example_number
    from validated
),

grouped as (
    select
        rejection_reason,
        count(*) as orders_affected,
        string_agg(order_id, ', ' order by order_id) filter (where example_number <= 5) as example_order_ids,
        string_agg(distinct currency, ', ') as currencies
    from numbered
    group by rejection_reason
)

select
    'orders' as source_table,
    rejection_reason as problem,
    orders_affected,
    example_order_ids,
    case rejection_reason
        when 'null_customer' then 'order has no customer_id: not counted'
        when 'unknown_customer' then 'customer_id is not in customers: not counted'
        when 'null_date' then 'created_at missing or not a date: not counted'
        when 'future_date' then 'created_at after now(): not counted'
        when 'implausible_date' then 'created_at before var min_order_date: not counted'
        when 'null_total' then 'total missing or not a number: not counted'
        when 'negative_total' then 'total below 0: not counted'
        when 'other_currency'
            then 'currency ' || currencies
                || ' is not the reporting currency and has no rate in seeds/currency_rates.csv: not counted'
        when 'absurd_total' then 'total above var max_order_total: not counted'
        else 'not counted'
    end as rule_applied
from grouped
