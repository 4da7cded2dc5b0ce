{#-
    The reference date of recency and trend features: var('reference_date') when set, otherwise the
    latest order date that is not in the future. Pinning it makes a rebuild of old data give the
    same answer. Orders, refunds and tickets after it are ignored by the features.
-#}
with orders as (
    select ordered_at from {{ ref('stg_shop__orders') }}
),

latest_order as (
    select max(ordered_at)::date as latest_order_date
    from orders
    where ordered_at <= now()
),

resolved as (
    select
        {% if var('reference_date') %}
            cast('{{ var("reference_date") }}' as date) as reference_date,
            'var' as reference_date_source
        {% else %}
            coalesce(latest_order_date, current_date) as reference_date,
            'latest_order_date' as reference_date_source
        {% endif %}
    from latest_order
)

select * from resolved
