{#-
    LTV (lifetime net revenue: valid orders minus refunds) and LTV tier of every customer with
    orders: vip = top 5%, high = next 15%, mid = middle 60%, low = bottom 20%, by rank of LTV
    (descending; ties broken by customer_id, so tiers are deterministic and sizes exact).
-#}
with features as (
    select
        customer_id,
        ltv
    from {{ ref('int_customer_features') }}
    where has_orders
),

ranked as (
    select
        customer_id,
        ltv,
        row_number() over (order by ltv desc, customer_id asc) as ltv_rank,
        count(*) over () as customers_with_orders
    from features
),

tiered as (
    select
        customer_id,
        ltv,
        ltv_rank,
        case
            when ltv_rank <= ceil(customers_with_orders * 0.05) then 'vip'
            when ltv_rank <= ceil(customers_with_orders * 0.20) then 'high'
            when ltv_rank <= ceil(customers_with_orders * 0.80) then 'mid'
            else 'low'
        end as ltv_tier
    from ranked
)

select * from tiered
