{#-
    Customers whose features must be re-computed in this build (docs/lifecycle.md):
      first_build        no previous features: everyone
      context_changed    reference date, product catalog or feature catalog changed: everyone
      new_source_rows    an order placed or cancelled, a refund or a ticket created after the
                         previous build's source watermark
      new_customer       a customer id the previous build did not have
      removed_customer   a customer id that is no longer in the source (its rows are deleted)
    The previous build's state is read from int_customer_features as it was before this build
    (no ref(): it is downstream of this model).
-#}
{%- set previous = shopseg_previous_relation('int_customer_features', 'intermediate', 'source_watermark') -%}
-- depends_on: {{ ref('stg_shop__orders') }}, {{ ref('stg_shop__refunds') }}
-- depends_on: {{ ref('stg_helpdesk__support_tickets') }}

with customers as (
    select distinct customer_id
    from {{ ref('stg_shop__customers') }}
    where customer_id is not null
),

context as (
    select feature_context from {{ ref('int_feature_context') }}
),

{% if previous is none or flags.FULL_REFRESH %}

changed as (
    select customer_id, 'first_build' as reason from customers
)

{% else %}

previous_features as (
    select customer_id, source_watermark, feature_context from {{ previous }}
),

previous_state as (
    select
        max(source_watermark) as source_watermark,
        max(feature_context) as feature_context
    from previous_features
),

context_changed as (
    select customers.customer_id, 'context_changed' as reason
    from customers
    cross join previous_state
    cross join context
    where previous_state.feature_context is distinct from context.feature_context
),

order_changes as (
    select orders.customer_id, 'new_source_rows' as reason
    from {{ ref('stg_shop__orders') }} as orders
    cross join previous_state
    where
        orders.ordered_at > previous_state.source_watermark
        or orders.cancelled_at > previous_state.source_watermark
        or previous_state.source_watermark is null
),

refund_changes as (
    select orders.customer_id, 'new_source_rows' as reason
    from {{ ref('stg_shop__refunds') }} as refunds
    inner join {{ ref('stg_shop__orders') }} as orders on refunds.order_id = orders.order_id
    cross join previous_state
    where refunds.refunded_at > previous_state.source_watermark
),

ticket_changes as (
    select tickets.customer_id, 'new_source_rows' as reason
    from {{ ref('stg_helpdesk__support_tickets') }} as tickets
    cross join previous_state
    where tickets.ticket_created_at > previous_state.source_watermark
),

new_customers as (
    select customers.customer_id, 'new_customer' as reason
    from customers
    left join previous_features on customers.customer_id = previous_features.customer_id
    where previous_features.customer_id is null
),

removed_customers as (
    select previous_features.customer_id, 'removed_customer' as reason
    from previous_features
    left join customers on previous_features.customer_id = customers.customer_id
    where customers.customer_id is null
),

all_changes as (
    select * from context_changed
    union all
    select * from order_changes
    union all
    select * from refund_changes
    union all
    select * from ticket_changes
    union all
    select * from new_customers
    union all
    select * from removed_customers
),

changed as (
    select customer_id, min(reason) as reason
    from all_changes
    where customer_id is not null
    group by customer_id
)

{% endif %}

select * from changed
