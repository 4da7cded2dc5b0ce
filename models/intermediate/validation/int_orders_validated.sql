{#-
    Every distinct order id with the rule that decides whether it counts as a purchase
    (docs/bad_input.md). rejection_reason is null for valid purchases, otherwise the first rule
    that rejects it:
      id_too_long       a text order_id or customer_id longer than var('max_key_length') (default 255)
      null_customer     no customer_id, or one that cannot be read as the customer key type
                        (e.g. 'abc' where customer ids are bigint; assert_source_values_parse lists it)
      unknown_customer  customer_id not a customer (int_customers_validated)
      null_date         no created_at, or one that is not a date (staging reads it as null)
      cancelled         cancelled_at is set (a normal business event, not bad input)
      future_date       created_at after the build's now()
      implausible_date  created_at before var('min_order_date') (default var min_source_date,
                        1990-01-01, midnight UTC)
      null_total        no total, or one that is not a number
      negative_total    total < 0
      other_currency    currency is not the reporting currency and seeds/currency_rates.csv has no
                        rate for it
      absurd_total      total > var('max_order_total') (default 1e10, in the reporting currency)
    Amounts of orders in another currency with a rate are converted to the reporting currency
    (currency keeps the original code, currency_rate the rate used; 1 otherwise). The reporting
    currency is var('reporting_currency') or, when unset, the most common currency of all orders
    (ties: alphabetical); orders without a currency are taken to be in it.
    Orders without an order_id cannot be tracked and are dropped (reported by the not_null test
    on stg_shop__orders). Duplicate order ids keep one row: the earliest, then the largest total.
    Orders dated after the reference date (possible when it is pinned) count, with recency 0.
    A table rebuilt in full on every build: which copy of a duplicated order id counts, and so
    which customer owns it, depends on every copy, not only on the changed customers' rows (an
    incremental version counted a re-used order id for two customers). The reference date and the
    incremental scope (int_customer_source_counts) read the valid orders from here.
-#}
{%- set reporting_currency = var('reporting_currency', none) -%}
{%- set max_order_total = shopseg_bound('max_order_total') -%}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

customers as (
    select customer_id from {{ ref('int_customers_validated') }}
    where rejection_reason is null
),

currency_rates as (
    select
        upper(trim(cast(currency as text))) as currency,
        cast(rate_to_reporting as numeric) as rate_to_reporting
    from {{ ref('currency_rates') }}
    where rate_to_reporting > 0
),

currency_counts as (
    select
        currency,
        count(*) as order_count
    from {{ ref('stg_shop__orders') }}
    where currency is not null
    group by currency
),

ranked_currencies as (
    select
        currency,
        row_number() over (order by order_count desc, currency asc) as currency_rank
    from currency_counts
),

reporting_currency as materialized (
    -- exactly one row (no FROM): the pinned currency, or the most common one (null if none);
    -- materialized so the orders are counted once, not once per reference
    select
        {% if reporting_currency -%}
            upper(trim({{ shopseg_sql_string(reporting_currency) }}))
        {%- else -%}
            (
                select ranked_currencies.currency
                from ranked_currencies
                where ranked_currencies.currency_rank = 1
            )
        {%- endif %} as currency
),

deduplicated as (
    select distinct on (order_id) *
    from orders
    where order_id is not null
    order by order_id asc, ordered_at asc, order_total desc nulls last, customer_id asc
),

converted as (
    select
        deduplicated.*,
        case
            when deduplicated.currency is null
                or reporting_currency.currency is null
                or deduplicated.currency = reporting_currency.currency
                then 1.0
            else currency_rates.rate_to_reporting
        end as currency_rate
    from deduplicated
    cross join reporting_currency
    left join currency_rates on deduplicated.currency = currency_rates.currency
),

validated as (
    select
        converted.order_id,
        converted.customer_id,
        converted.ordered_at,
        converted.currency,
        converted.currency_rate,
        converted.subtotal * converted.currency_rate as subtotal,
        converted.discount_amount * converted.currency_rate as discount_amount,
        converted.order_total * converted.currency_rate as order_total,
        converted.discount_code,
        case
            when {{ shopseg_key_too_long('converted.order_id', 'order') }}
                or {{ shopseg_key_too_long('converted.customer_id', 'customer') }} then 'id_too_long'
            when converted.customer_id is null then 'null_customer'
            when customers.customer_id is null then 'unknown_customer'
            when converted.ordered_at is null then 'null_date'
            when converted.cancelled_at is not null then 'cancelled'
            when converted.ordered_at > now() then 'future_date'
            when converted.ordered_at < {{ shopseg_min_date('orders') }} then 'implausible_date'
            when converted.order_total is null then 'null_total'
            when converted.order_total < 0 then 'negative_total'
            when converted.currency_rate is null then 'other_currency'
            when converted.order_total * converted.currency_rate > {{ max_order_total }} then 'absurd_total'
        end as rejection_reason
    from converted
    left join customers on converted.customer_id = customers.customer_id
)

select * from validated
