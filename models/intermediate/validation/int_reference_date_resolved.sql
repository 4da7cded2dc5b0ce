{#-
    The reference date of recency and trend features: var('reference_date') when set (YYYY-MM-DD),
    otherwise the UTC date of the latest valid purchase (int_orders_validated without a
    rejection_reason: a rejected order, e.g. one of an unknown customer dated yesterday, never
    moves it), or today's UTC date when there is none. Dates are UTC whatever the session's
    TimeZone (docs/bad_input.md). Pinning it makes a rebuild of old data give the same answer.
    Orders, refunds and tickets after it are ignored by the features.
-#}
with valid_orders as (
    select ordered_at from {{ ref('int_orders_validated') }}
    where rejection_reason is null
),

latest_order as (
    select (max(ordered_at) at time zone 'UTC')::date as latest_order_date
    from valid_orders
),

resolved as (
    select
        {% if var('reference_date') %}
            ({{ shopseg_date_bound('reference_date', '') }} at time zone 'UTC')::date as reference_date,
            'var' as reference_date_source
        {% else %}
            coalesce(latest_order_date, (now() at time zone 'UTC')::date) as reference_date,
            'latest_order_date' as reference_date_source
        {% endif %}
    from latest_order
)

select * from resolved
