{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
        on_schema_change='sync_all_columns',
    )
}}
{#-
    Order-based features per customer with at least one valid purchase, in one pass over
    int_orders_enriched (one window sort for the gaps, one aggregation). Definitions and units
    are in seeds/segment_axis_features.csv and the model's YAML. The two features that divide by
    the items bought (items_per_order, item_return_rate) are in int_customer_features: the item
    count comes from int_customer_line_features, and this model passes the refunded quantity.
-#}
with orders as (
    select * from {{ ref('int_orders_enriched') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

reference as (
    select reference_date from {{ ref('int_reference_date_resolved') }}
),

sequenced as (
    select
        orders.*,
        reference.reference_date,
        greatest(reference.reference_date - orders.order_date, 0) as days_before_reference,
        orders.order_date - lag(orders.order_date) over customer_orders as gap_days,
        row_number() over customer_orders as order_number
    from orders
    cross join reference
    window customer_orders as (partition by orders.customer_id order by orders.ordered_at, orders.order_id)
),

aggregated as (
    select
        customer_id,
        count(*) as order_count,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        max(days_before_reference) as tenure_days,
        min(days_before_reference) as recency_days,
        count(*) filter (where days_before_reference < 90) as orders_last_90d,
        count(*) filter (where days_before_reference < 365) as orders_last_365d,
        sum(net_value) as total_net_revenue,
        avg(net_value) as avg_order_value,
        max(order_total) as max_order_value,
        sum(order_total) as gross_revenue,
        sum(refunded_amount) as refunded_amount,
        sum(refunded_quantity) as refunded_quantity,
        avg(has_discount::int) as discounted_order_share,
        avg(discount_rate) as avg_discount_rate,
        avg(has_discount_code::int) as discount_code_rate,
        avg(is_holiday_season::int) as holiday_season_share,
        avg(has_return::int) as orders_with_return_share,
        percentile_cont(0.5) within group (order by gap_days) as median_gap,
        avg(gap_days) as mean_gap,
        stddev_pop(gap_days) as stddev_gap,
        count(gap_days) as gap_count,
        min(gap_days) filter (where order_number = 2) as days_to_second_order_raw,
        sum(net_value) filter (where days_before_reference < 180) as spend_last_180d,
        sum(net_value) filter (where days_before_reference >= 180 and days_before_reference < 360)
            as spend_prior_180d,
        count(*) filter (where days_before_reference < 180) as orders_last_180d,
        count(*) filter (where days_before_reference >= 180 and days_before_reference < 360)
            as orders_prior_180d
    from sequenced
    group by customer_id
),

features as (
    select
        customer_id,
        order_count,
        first_order_date,
        last_order_date,
        tenure_days,
        recency_days,
        orders_last_90d,
        orders_last_365d,
        total_net_revenue,
        avg_order_value,
        max_order_value,
        gross_revenue,
        refunded_quantity,
        (order_count / greatest(tenure_days / 30.4375, 1.0))::double precision as orders_per_active_month,
        discounted_order_share::double precision as discounted_order_share,
        avg_discount_rate::double precision as avg_discount_rate,
        discount_code_rate::double precision as discount_code_rate,
        coalesce(median_gap, tenure_days)::double precision as median_gap_days,
        (
            case
                when gap_count < 2 then 1.0
                when mean_gap > 0 then stddev_gap / mean_gap
                else 0.0
            end
        )::double precision as gap_cv,
        holiday_season_share::double precision as holiday_season_share,
        ((order_count - 1)::numeric / order_count)::double precision as repeat_order_share,
        coalesce(days_to_second_order_raw, tenure_days)::double precision as days_to_second_order,
        (
            case when gross_revenue > 0 then least(refunded_amount / gross_revenue, 1) else 0 end
        )::double precision as refunded_value_share,
        orders_with_return_share::double precision as orders_with_return_share,
        ln((1 + coalesce(spend_last_180d, 0)) / (1 + coalesce(spend_prior_180d, 0)))::double precision
            as spend_trend,
        ln((1 + orders_last_180d)::numeric / (1 + orders_prior_180d))::double precision as order_trend,
        (recency_days / greatest(coalesce(median_gap, tenure_days), 1.0))::double precision
            as recency_vs_usual_gap
    from aggregated
)

select * from features
