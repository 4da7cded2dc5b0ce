{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
        on_schema_change='sync_all_columns',
        analyze_columns=['customer_id', 'has_orders'],
    )
}}
{#-
    The feature vector of every customer: one row per customer in `customers`, every feature of the
    axis catalog (seeds/segment_axis_features.csv) as double precision. feature_hash fingerprints
    the row (incremental scoring); feature_context and source_fingerprint (the customer's counted
    source rows: int_customer_source_counts) record the state it was computed from
    (int_customers_changed compares them on the next build). Customers without a valid
    purchase have has_orders = false and null features (they are not segmented). Customers with
    orders but no lines / tickets get the documented neutral values (0 shares, 0 counts).
-#}
with customers as (
    select customer_id from {{ ref('int_customers_validated') }}
    where
        rejection_reason is null
        and {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

context as (
    select feature_context from {{ ref('int_feature_context') }}
),

source_counts as (
    select * from {{ ref('int_customer_source_counts') }}
),

order_features as (
    select * from {{ ref('int_customer_order_features') }}
),

line_features as (
    select * from {{ ref('int_customer_line_features') }}
),

ticket_features as (
    select * from {{ ref('int_customer_ticket_features') }}
),

joined as (
    select
        customers.customer_id,
        order_features.customer_id is not null as has_orders,
        order_features.order_count,
        order_features.total_net_revenue as ltv,
        order_features.first_order_date,
        order_features.last_order_date,
        coalesce(ticket_features.ticket_count, 0) as ticket_count,
        order_features.orders_per_active_month,
        order_features.orders_last_90d,
        order_features.orders_last_365d,
        order_features.avg_order_value,
        order_features.total_net_revenue,
        order_features.max_order_value,
        -- the item count is summed with the other line features (0 without counted lines)
        (coalesce(line_features.item_count, 0)::numeric / order_features.order_count) as items_per_order,
        line_features.distinct_categories,
        line_features.category_entropy,
        line_features.top_category_share,
        order_features.discounted_order_share,
        order_features.avg_discount_rate,
        order_features.discount_code_rate,
        order_features.median_gap_days,
        order_features.gap_cv,
        order_features.holiday_season_share,
        order_features.tenure_days,
        order_features.recency_days,
        order_features.order_count as total_orders,
        line_features.repeat_product_rate,
        order_features.repeat_order_share,
        order_features.days_to_second_order,
        case
            when line_features.item_count > 0
                then least(order_features.refunded_quantity / line_features.item_count, 1)
            when order_features.customer_id is not null then 0
        end as item_return_rate,
        order_features.refunded_value_share,
        order_features.orders_with_return_share,
        coalesce(ticket_features.ticket_count, 0)::numeric / order_features.order_count as tickets_per_order,
        ticket_features.share_email,
        ticket_features.share_chat,
        ticket_features.share_phone,
        ticket_features.share_social,
        ticket_features.share_help_center,
        ticket_features.messages_per_ticket,
        ticket_features.resolution_hours,
        ticket_features.escalation_rate,
        ticket_features.reopen_rate,
        ticket_features.technical_topic_share,
        order_features.spend_trend,
        order_features.order_trend,
        order_features.recency_vs_usual_gap,
        coalesce(ticket_features.question_ticket_count, 0)::numeric / order_features.order_count
            as questions_per_order,
        line_features.distinct_products,
        order_features.tenure_days as knowledge_tenure_days,
        line_features.premium_spend_share,
        line_features.avg_price_percentile,
        line_features.full_price_share
    from customers
    left join order_features on customers.customer_id = order_features.customer_id
    left join line_features on customers.customer_id = line_features.customer_id
    left join ticket_features on customers.customer_id = ticket_features.customer_id
),

{%- set line_defaults = ['distinct_categories', 'category_entropy', 'top_category_share',
                         'repeat_product_rate', 'distinct_products', 'premium_spend_share',
                         'avg_price_percentile', 'full_price_share'] %}
{%- set ticket_defaults = ['share_email', 'share_chat', 'share_phone', 'share_social',
                           'share_help_center', 'messages_per_ticket', 'resolution_hours',
                           'escalation_rate', 'reopen_rate', 'technical_topic_share'] %}

typed as (
    select
        customer_id,
        has_orders,
        order_count::integer as order_count,
        ltv::numeric(18, 2) as ltv,
        first_order_date,
        last_order_date,
        ticket_count::integer as ticket_count,
    {%- for feature in shopseg_catalog_feature_names() %}
        {%- if feature in line_defaults or feature in ticket_defaults %}
            case when has_orders then coalesce({{ feature }}, 0) end::double precision as {{ feature }}
        {%- else %}
            {{ feature }}::double precision as {{ feature }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
    from joined
),

fingerprinted as (
    select
        typed.*,
        md5(typed::text) as feature_hash,  -- noqa: RF02
        context.feature_context,
        source_counts.source_fingerprint
    from typed
    cross join context
    left join source_counts on typed.customer_id = source_counts.customer_id
)

select * from fingerprinted
