{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_to_score') }}",
        on_schema_change='fail',
    )
}}
{#-
    One row per customer in `customers` (SPEC 4): segmented customers carry their 13-axis dominant
    segments, fuzzy memberships and archetype; customers without a valid purchase are
    awaiting_first_purchase with null segments. The archetype id is 'arch_' + the first 10 hex
    digits of md5 of the signature (jsonb text is canonical), so it is stable across builds.
    No PII: email never leaves the raw schema.
-#}
with features as (
    select
        customer_id,
        has_orders,
        order_count,
        ltv
    from {{ ref('int_customer_features') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
),

scoring as (
    select
        customer_id,
        scoring_hash
    from {{ ref('int_customers_to_score') }}
),

tiers as (
    select
        customer_id,
        ltv_tier
    from {{ ref('int_customer_ltv_tiers') }}
),

assignments as (
    select * from {{ ref('int_customer_segment_assignments') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
),

axis_objects as (
    select
        customer_id,
        axis,
        dominant_label,
        centroid_version,
        {{ shopseg_membership_object('labels', 'memberships', shopseg_max_clusters()) }} as memberships_object
    from assignments
),

per_customer as (
    select
        customer_id,
        jsonb_object_agg(axis, dominant_label) as dominant_segments,
        jsonb_object_agg(axis, memberships_object) as fuzzy_memberships,
        max(centroid_version) as centroid_version
    from axis_objects
    group by customer_id
),

profiles as (
    select
        features.customer_id,
        case
            when per_customer.customer_id is not null then 'segmented'
            else 'awaiting_first_purchase'
        end as segmentation_status,
        case
            when per_customer.customer_id is not null
                then 'arch_' || left(md5(per_customer.dominant_segments::text), 10)
        end as archetype_id,
        per_customer.dominant_segments,
        per_customer.fuzzy_memberships,
        coalesce(features.ltv, 0)::numeric(18, 2) as ltv,
        tiers.ltv_tier,
        coalesce(features.order_count, 0)::integer as order_count,
        per_customer.centroid_version::integer as centroid_version,
        cast('{{ run_started_at.isoformat() }}' as timestamptz) as segmented_at,
        scoring.scoring_hash
    from features
    left join per_customer on features.customer_id = per_customer.customer_id
    left join tiers on features.customer_id = tiers.customer_id
    left join scoring on features.customer_id = scoring.customer_id
)

select * from profiles
