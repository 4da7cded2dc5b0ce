{#-
    Customers whose features must be re-computed in this build (docs/lifecycle.md):
      first_build        no previous features: everyone
      context_changed    reference date, product catalog or feature catalog changed: everyone
      source_rows_changed  the fingerprint of the customer's counted source rows (valid orders,
                         their lines and refunds, tickets: every column a feature reads;
                         int_customer_source_counts) differs from the one stored with their
                         features: a new, late-arriving, deleted, cancelled or edited row, a row
                         moved to another order or customer, the previous owner of an order id
                         now kept for another customer
      new_customer       a customer id the previous build did not have
      removed_customer   a customer id that is no longer in the source (its rows are deleted)
    The previous build's state is read from int_customer_features as it was before this build
    (source previous_build_intermediate: a ref() would be a cycle).
-#}
{%- set previous = shopseg_previous_relation(
    'previous_build_intermediate', 'int_customer_features', 'source_fingerprint'
) -%}
{%- set previous = none if flags.FULL_REFRESH else previous -%}
-- depends_on: {{ ref('int_customer_source_counts') }}

with customers as (
    select customer_id
    from {{ ref('int_customers_validated') }}
    where rejection_reason is null
),

context as (
    select feature_context from {{ ref('int_feature_context') }}
),

previous_features as (
    {% if previous is none -%}
        select
            null::{{ shopseg_key_type('customer') }} as customer_id,
            null::text as feature_context,
            null::text as source_fingerprint
        where false
    {%- else -%}
        select
            customer_id,
            feature_context,
            source_fingerprint
        from {{ previous }}
    {%- endif %}
),

previous_context as (
    select max(feature_context) as feature_context from previous_features
),

source_counts as (
    select * from {{ ref('int_customer_source_counts') }}
),

context_changed as (
    select
        customers.customer_id,
        case when previous_context.feature_context is null then 'first_build' else 'context_changed' end as reason
    from customers
    cross join previous_context
    cross join context
    where previous_context.feature_context is distinct from context.feature_context
),

source_changes as (
    select
        coalesce(source_counts.customer_id, previous_features.customer_id) as customer_id,
        'source_rows_changed' as reason
    from source_counts
    full outer join previous_features on source_counts.customer_id = previous_features.customer_id
    where source_counts.source_fingerprint is distinct from previous_features.source_fingerprint
),

new_customers as (
    select
        customers.customer_id,
        'new_customer' as reason
    from customers
    left join previous_features on customers.customer_id = previous_features.customer_id
    where previous_features.customer_id is null
),

removed_customers as (
    select
        previous_features.customer_id,
        'removed_customer' as reason
    from previous_features
    left join customers on previous_features.customer_id = customers.customer_id
    where customers.customer_id is null
),

all_changes as (
    select * from context_changed
    union all
    select * from source_changes
    union all
    select * from new_customers
    union all
    select * from removed_customers
),

changed as (
    select
        customer_id,
        min(reason) as reason
    from all_changes
    where customer_id is not null
    group by customer_id
)

select * from changed
